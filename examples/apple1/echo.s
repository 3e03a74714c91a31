; echo.s -- an Apple-1 ROM of our own: the Woz Monitor's I/O idioms, for recomp's apple1 machine.
;
; Target: NMOS 6502 (xa -C). A 256-byte ROM image for $FF00-$FFFF, reset vector included.
;
; Apple-1 I/O (the 6821 PIA):
;   $D010 KBD    key code, bit 7 set; reading it clears KBDCR bit 7
;   $D011 KBDCR  bit 7 set while a key is waiting
;   $D012 DSP    write: show a character; read: bit 7 set while the display is busy
;   $D013 DSPCR  control
;
; What it does: sets the PIA up as the Woz Monitor does ($7F to the display's direction
; register, then $A7 to both control registers); prints a banner; then, like a program busy
; with work that checks for a break key now and then (as Integer BASIC does before every
; line), runs 100 slices of about 2,500 cycles with one glance at KBDCR each, without taking
; keys; prints "READY"; then echoes every key (letters arrive upper case), CR as a new line,
; counting lines, and on ESC prints the count and waits again.
;
; Build: xa -C -M -o echo.bin echo.s (or make)
; Run:   printf 'hello\nworld\n' | recomp run --machine apple1 --rom echo.bin@'$FF00'

KBD     = $D010
KBDCR   = $D011
DSP     = $D012
DSPCR   = $D013

LINES   = $00                   ; lines echoed (a counter)
SLICES  = $01

        * = $FF00

reset   cld
        cli
        ldx #$FF
        txs
        ldy #$7F                ; the Woz Monitor's PIA set-up: DDR B = $7F ...
        sty DSP
        lda #$A7                ; ... then both control registers
        sta KBDCR
        sta DSPCR
        lda #0
        sta LINES
        ldx #0
banner  lda msg,x               ; "APPLE-1 ECHO" CR
        beq work
        jsr echo
        inx
        bne banner

work    lda #100                ; busy for a while, glancing at the keyboard now and then
        sta SLICES
slice   ldx #0
spin    nop
        nop
        dex
        bne spin                ; about 2,300 cycles a slice
        lda KBDCR               ; a break-key check (the key is left for later)
        dec SLICES
        bne slice
        ldx #0
ready   lda rdy,x
        beq next
        jsr echo
        inx
        bne ready

next    lda KBDCR               ; wait for a key
        bpl next
        lda KBD
        cmp #$9B                ; ESC: show the count
        beq count
        jsr echo
        cmp #$8D                ; CR: one more line
        bne next
        inc LINES
        jmp next

count   lda LINES
        ora #$B0                ; as a digit (fewer than ten lines)
        jsr echo
        lda #$8D
        jsr echo
        jmp next

echo    bit DSP                 ; the Woz Monitor's ECHO: wait while the display is busy
        bmi echo
        sta DSP
        rts

msg     .byt "APPLE-1 ECHO", $0D, 0
rdy     .byt "READY", $0D, 0

        .dsb $FFFA-*, $FF
        .word reset             ; NMI
        .word reset             ; RESET
        .word reset             ; IRQ/BRK
