; upcase.s -- copy stdin to stdout, converting a-z to A-Z.
;
; Reads bytes from the console input port one at a time. Lower-case ASCII
; letters (a-z) are converted to upper case; every other byte, including
; the newline ($0A) that ends each line, is written out unchanged, and
; processing continues with the next line. A 0 byte from the input port
; means end of input: the program then stops.
;
;   printf 'hello\nworld\n' | <run upcase.bin>   prints   HELLO\nWORLD\n
;
; Target: NMOS 6502, documented opcodes only (assembled with xa -C, which
; rejects 65C02 opcodes). Raw binary image, loaded and started at $0200.
;
; Machine: 64 KiB RAM plus a py65-style console:
;   $F001  write: the stored byte goes to stdout
;   $F004  read:  next byte of stdin, or 0 at end of input
;
; Build (Debian package xa65):
;   xa -C -M -o upcase.bin upcase.s      (or just: make)
;
; Run:
;   printf 'hello\nworld\n' | recomp run --frontend 6502 upcase.bin \
;       --load 0x200 --entry 0x200 --stop-on-trap
;
; The program ends by jumping to itself ("done: jmp done"); the runner
; stops on that trap with --stop-on-trap.

CONOUT  = $F001                 ; console output port
CONIN   = $F004                 ; console input port (0 = end of input)

        * = $0200               ; load and entry address

start   ldx #$FF                ; set up the stack pointer ($01FF)
        txs
        cld                     ; binary (not decimal) arithmetic

loop    lda CONIN               ; read the next input byte
        beq done                ; 0: end of input, stop
        cmp #"a"                ; below 'a'?
        bcc out                 ;   yes: output unchanged
        cmp #"z"+1              ; above 'z'?
        bcs out                 ;   yes: output unchanged
        and #$DF                ; a-z: clear bit 5 to get A-Z
out     sta CONOUT              ; write the byte (a newline is echoed too)
        jmp loop                ; continue, across line ends, until input ends

done    jmp done                ; trap: jump to self to halt
