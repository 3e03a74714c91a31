; sieve.s -- count the primes below 8192 with the sieve of Eratosthenes, REPS times.
;
; NMOS 6502, documented opcodes; origin $0200, entry $0200; ends in a jump to itself.
; The repetition count is the byte at $0203 (patch it for a shorter run).
; Result: the count (1028) at $10/$11, little-endian.
; Memory: one flag byte per number at $2000-$3FFF.

count   = $10                   ; primes found (16 bits)
ptr     = $12                   ; pointer into the flags
n       = $14                   ; candidate (16 bits)
iter    = $16                   ; repetitions left
FLAGS   = $2000
SIZE    = $2000                 ; numbers 0 .. 8191

        * = $0200
        jmp main
reps    .byt 64

main    ldx #$FF
        txs
        cld
        lda reps
        sta iter
again   lda #<FLAGS             ; every number starts as a prime candidate
        sta ptr
        lda #>FLAGS
        sta ptr+1
        lda #1
        ldy #0
        ldx #>SIZE
fill    sta (ptr),y
        iny
        bne fill
        inc ptr+1
        dex
        bne fill
        lda #0
        sta count
        sta count+1
        lda #2
        sta n
        lda #0
        sta n+1
loop    lda n+1                 ; n < SIZE?
        cmp #>SIZE
        bcs finished
        clc                     ; ptr = FLAGS + n
        lda n
        adc #<FLAGS
        sta ptr
        lda n+1
        adc #>FLAGS
        sta ptr+1
        ldy #0
        lda (ptr),y
        beq next                ; crossed out: not a prime
        inc count
        bne mark
        inc count+1
mark    clc                     ; cross out n+n, n+n+n, ... below SIZE
        lda ptr
        adc n
        sta ptr
        lda ptr+1
        adc n+1
        sta ptr+1
        cmp #>(FLAGS+SIZE)
        bcs next
        lda #0
        sta (ptr),y
        jmp mark
next    inc n
        bne loop
        inc n+1
        jmp loop
finished
        dec iter
        bne again
done    jmp done
