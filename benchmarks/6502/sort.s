; sort.s -- bubble sort 256 pseudo-random bytes, REPS times (the data regenerated each time).
;
; NMOS 6502, documented opcodes; origin $0200, entry $0200; ends in a jump to itself.
; The repetition count is the byte at $0203.  The data at $4000-$40FF comes from the 8-bit
; generator x' = 5x + 17 (mod 256), x0 = 1, which visits every value once: sorted, byte i is i.

seed    = $10
swapped = $11
iter    = $12
DATA    = $4000

        * = $0200
        jmp main
reps    .byt 32

main    ldx #$FF
        txs
        cld
        lda reps
        sta iter
again   lda #1
        sta seed
        ldx #0
gen     lda seed
        sta DATA,x
        asl                     ; 5x + 17 = 4x + x + 17
        asl
        clc
        adc seed
        clc
        adc #17
        sta seed
        inx
        bne gen
pass    lda #0
        sta swapped
        ldx #0
compare lda DATA,x
        cmp DATA+1,x
        bcc inorder
        beq inorder
        ldy DATA+1,x            ; swap DATA[x] and DATA[x+1]
        sta DATA+1,x
        tya
        sta DATA,x
        lda #1
        sta swapped
inorder inx
        cpx #255
        bne compare
        lda swapped
        bne pass
        dec iter
        bne again
done    jmp done
