; crc16.s -- CRC-16/CCITT-FALSE (polynomial $1021, initial $FFFF, bit by bit) of 4 KiB,
; REPS times.
;
; NMOS 6502, documented opcodes; origin $0200, entry $0200; ends in a jump to itself.
; The repetition count is the byte at $0203.  The data at $4000-$4FFF is generated first:
; byte i is (7 * i) mod 256.  Result: the CRC at $10 (low) and $11 (high).

crc     = $10
ptr     = $12
iter    = $14
DATA    = $4000
PAGES   = 16

        * = $0200
        jmp main
reps    .byt 64

main    ldx #$FF
        txs
        cld
        lda #<DATA
        sta ptr
        lda #>DATA
        sta ptr+1
        lda #0
        ldx #PAGES
        ldy #0
gen     sta (ptr),y
        clc
        adc #7
        iny
        bne gen
        inc ptr+1
        dex
        bne gen
        lda reps
        sta iter
again   lda #$FF
        sta crc
        sta crc+1
        lda #>DATA
        sta ptr+1
        ldx #PAGES
        ldy #0
byte    lda (ptr),y
        eor crc+1
        sta crc+1
        txa
        pha
        ldx #8
shift   asl crc
        rol crc+1
        bcc nox
        lda crc+1
        eor #$10
        sta crc+1
        lda crc
        eor #$21
        sta crc
nox     dex
        bne shift
        pla
        tax
        iny
        bne byte
        inc ptr+1
        dex
        bne byte
        dec iter
        bne again
done    jmp done
