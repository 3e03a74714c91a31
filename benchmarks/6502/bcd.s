; bcd.s -- a six-digit packed-BCD counter incremented 65536 * REPS times in decimal mode.
;
; NMOS 6502, documented opcodes; origin $0200, entry $0200; ends in a jump to itself.
; The repetition count is the byte at $0203.  Result: the counter at $10-$12, least
; significant pair of digits first (65536 * REPS in decimal, modulo 1000000).

count   = $10                   ; three bytes, two BCD digits each
iter    = $13

        * = $0200
        jmp main
reps    .byt 16

main    ldx #$FF
        txs
        lda #0
        sta count
        sta count+1
        sta count+2
        lda reps
        sta iter
outer   ldy #0
middle  ldx #0
inner   sed
        clc
        lda count
        adc #1
        sta count
        lda count+1
        adc #0
        sta count+1
        lda count+2
        adc #0
        sta count+2
        cld
        dex
        bne inner
        dey
        bne middle
        dec iter
        bne outer
done    jmp done
