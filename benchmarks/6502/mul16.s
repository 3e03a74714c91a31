; mul16.s -- 16 x 16 -> 32-bit shift-and-add multiplication, 256 * REPS times, summing the
; products (32-bit carry chains).
;
; NMOS 6502, documented opcodes; origin $0200, entry $0200; ends in a jump to itself.
; The repetition count is the byte at $0203.  Multiplicand and multiplier start at $1234 and
; $ABCD and grow by 3 and 5 after each product.  Result: the sum (mod 2^32) at $18-$1B.

mcand   = $10                   ; 16 bits
mplier  = $12                   ; 16 bits
prod    = $14                   ; 32 bits
sum     = $18                   ; 32 bits
iter    = $1C
inner   = $1D
mtmp    = $1E                   ; the multiplier, shifted out

        * = $0200
        jmp main
reps    .byt 255

main    ldx #$FF
        txs
        cld
        lda #0
        sta sum
        sta sum+1
        sta sum+2
        sta sum+3
        lda #$34
        sta mcand
        lda #$12
        sta mcand+1
        lda #$CD
        sta mplier
        lda #$AB
        sta mplier+1
        lda reps
        sta iter
outer   lda #0
        sta inner
mloop   jsr mul16
        clc                     ; sum += prod
        lda sum
        adc prod
        sta sum
        lda sum+1
        adc prod+1
        sta sum+1
        lda sum+2
        adc prod+2
        sta sum+2
        lda sum+3
        adc prod+3
        sta sum+3
        clc                     ; mcand += 3
        lda mcand
        adc #3
        sta mcand
        lda mcand+1
        adc #0
        sta mcand+1
        clc                     ; mplier += 5
        lda mplier
        adc #5
        sta mplier
        lda mplier+1
        adc #0
        sta mplier+1
        dec inner
        bne mloop
        dec iter
        bne outer
done    jmp done

; prod = mcand * mplier: shift the multiplier out to the right; add the multiplicand into the
; high half for each 1 bit; shift the product right
mul16   lda mplier
        sta mtmp
        lda mplier+1
        sta mtmp+1
        lda #0
        sta prod+2
        sta prod+3
        ldx #16
mbit    lsr mtmp+1
        ror mtmp
        bcc mshift
        lda prod+2
        clc
        adc mcand
        sta prod+2
        lda prod+3
        adc mcand+1
        sta prod+3
mshift  ror prod+3
        ror prod+2
        ror prod+1
        ror prod
        dex
        bne mbit
        rts
