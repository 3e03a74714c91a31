; hello.s -- print "Hello, 6502!" followed by a newline, then stop.
;
; Target: NMOS 6502, documented opcodes only (assembled with xa -C, which
; rejects 65C02 opcodes). Raw binary image, loaded and started at $0200.
;
; Machine: 64 KiB RAM plus a py65-style console:
;   $F001  write: the stored byte goes to stdout
;   $F004  read:  next byte of stdin, or 0 at end of input
;
; Build (Debian package xa65):
;   xa -C -M -o hello.bin hello.s        (or just: make)
;
; Run:
;   recomp run --frontend 6502 hello.bin --load 0x200 --entry 0x200 --stop-on-trap
;
; The program ends by jumping to itself ("done: jmp done"); the runner
; stops on that trap with --stop-on-trap.

CONOUT  = $F001                 ; console output port

        * = $0200               ; load and entry address

start   ldx #$FF                ; set up the stack pointer ($01FF)
        txs
        cld                     ; binary (not decimal) arithmetic

        ldx #0                  ; X = index into the message
loop    lda msg,x               ; fetch next character
        beq done                ; zero terminator: finished
        sta CONOUT              ; write it to stdout
        inx
        bne loop                ; always taken (message < 256 bytes)

done    jmp done                ; trap: jump to self to halt

msg     .byt "Hello, 6502!", $0A, 0
