; charin.s -- a line editor's echo through ONE character I/O register, as VM65
; (the 6502 VM that runs Microchess) and a 6551 ACIA's data register work:
; reading $E000 takes the next input byte (0 at the end of input), writing it
; prints a byte. Each line read is echoed back reversed, after a "> " prompt.
;
; Target: NMOS 6502, documented opcodes only (assembled with xa -C).
; Raw binary image, loaded and started at $0200.
;
; Machine: 64 KiB RAM plus a console whose input and output share $E000:
;   recomp run charin.bin --load '$200' --entry '$200' --putc '$E000' \
;       --getc '$E000' --stop-on-trap
;
; Build (Debian package xa65):
;   xa -C -M -o charin.bin charin.s      (or just: make)

IO      = $E000                 ; the character register: read in, write out
BUFFER  = $0300                 ; the line being read (up to 255 bytes)

        * = $0200               ; load and entry address

start   ldx #$FF                ; set up the stack pointer ($01FF)
        txs
        cld

line    lda #">"                ; the prompt
        sta IO
        lda #" "
        sta IO
        ldx #0                  ; X = bytes in the line
read    lda IO                  ; the next input byte
        beq done                ; 0: end of input, stop
        cmp #10                 ; the end of the line?
        beq echo
        sta BUFFER,x
        inx
        bne read                ; (a line of 256 bytes wraps; this is a test)
echo    txa                     ; print the line backwards
        beq newline
back    dex
        lda BUFFER,x
        sta IO
        txa
        bne back
newline lda #10
        sta IO
        jmp line

done    jmp done                ; trap: jump to self to halt
