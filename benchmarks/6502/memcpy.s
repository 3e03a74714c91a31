; memcpy.s -- copy 8 KiB from $4000 to $6000 through (zp),Y pointers, REPS times.
;
; NMOS 6502, documented opcodes; origin $0200, entry $0200; ends in a jump to itself.
; The repetition count is the byte at $0203.  The source is generated first: byte i of each
; page p is i xor p.  Result: the copy at $6000-$7FFF; $10 counts the copies made.

copies  = $10
src     = $12
dst     = $14
iter    = $16
SRC     = $4000
DST     = $6000
PAGES   = 32

        * = $0200
        jmp main
reps    .byt 255

main    ldx #$FF
        txs
        cld
        lda #<SRC
        sta src
        lda #>SRC
        sta src+1
        ldx #0
gpage   ldy #0
gen     tya
        stx copies              ; the page number, for the xor
        eor copies
        sta (src),y
        iny
        bne gen
        inc src+1
        inx
        cpx #PAGES
        bne gpage
        lda #0
        sta copies
        lda reps
        sta iter
again   lda #>SRC
        sta src+1
        lda #>DST
        sta dst+1
        lda #0
        sta src
        sta dst
        ldx #PAGES
        ldy #0
copy    lda (src),y
        sta (dst),y
        iny
        bne copy
        inc src+1
        inc dst+1
        dex
        bne copy
        inc copies
        dec iter
        bne again
done    jmp done
