; snake.s -- a snake game for the easy6502 virtual console.
;
; Target: NMOS 6502, documented opcodes only (assembled with xa -C, which
; rejects 65C02 opcodes). Raw binary image, loaded and started at $0600.
;
; Machine (the easy6502 / 6502asm.com console):
;   $0200-$05FF  32x32 screen, one byte per pixel, row-major
;                (row r, column c at $0200 + 32*r + c), low 4 bits = colour
;   $FE          read: a fresh random byte on every read
;   $FF          read: ASCII code of the last key pressed (a latch); the
;                game writes 0 to it after reading, so each press counts once
;   BRK          ends the program
;
; Build (Debian package xa65):
;   xa -C -M -o snake.bin snake.s        (or just: make)
;
; Run:
;   recomp run --machine easy6502 snake.bin
;
; Play: w/a/s/d (or W/A/S/D) steer up/left/down/right; the snake starts
; moving right. A red apple makes the snake 3 segments longer and adds a
; yellow pip to the score bar in the top wall. Running into the grey wall
; or into the snake itself ends the game: the snake turns light red, the
; cell it ran into turns white, and the program executes BRK.
;
; The game never waits for a key: with no key pressed the snake runs right
; into the wall after 23 moves (about 1.3 million cycles).

; ---- machine ---------------------------------------------------------------

SCREEN  = $0200                 ; 32x32 pixels, $0200-$05FF
RANDOM  = $FE                   ; random byte on every read
KEY     = $FF                   ; last key pressed (ASCII), 0 = none

; ---- colours ---------------------------------------------------------------

C_EMPTY = $00                   ; black
C_WALL  = $0B                   ; dark grey
C_BODY  = $05                   ; green
C_HEAD  = $0D                   ; light green
C_APPLE = $02                   ; red
C_SCORE = $07                   ; yellow (score pips in the wall)
C_DEAD  = $0A                   ; light red (the snake after game over)
C_CRASH = $01                   ; white (the cell the snake ran into)

; ---- tuning ----------------------------------------------------------------

GROWBY  = 3                     ; segments gained per apple
MAXLEN  = 250                   ; the snake stops growing at this length
DELAY   = 45                    ; delay loop: DELAY * 1286 cycles per move
                                ; (about 58,000 cycles: 17 moves/s at 1 MHz)

; ---- zero page -------------------------------------------------------------

ptr     = $00                   ; (2) next head position / scratch pointer
dir     = $02                   ; direction: 0 up, 1 right, 2 down, 3 left
head    = $03                   ; (2) screen address of the head
hidx    = $05                   ; ring index of the head segment
tidx    = $06                   ; ring index of the tail segment
grow    = $07                   ; segments still to grow
score   = $08                   ; apples eaten
ate     = $09                   ; nonzero: an apple was eaten this move
ptr2    = $0A                   ; (2) scratch pointer (tail, apple)

; ---- snake body: a 256-entry ring buffer of screen addresses --------------

BODYLO  = $1000                 ; low bytes,  indexed by ring index
BODYHI  = $1100                 ; high bytes, indexed by ring index

        * = $0600               ; load and entry address

start   ldx #$FF                ; set up the stack pointer ($01FF)
        txs
        cld                     ; binary (not decimal) arithmetic
        lda #0
        sta KEY                 ; forget any key pressed before the start
        sta grow
        sta score
        jsr clear
        jsr border
        jsr newsnake
        jsr apple

main    jsr readkey             ; maybe turn
        jsr step                ; move one cell; carry set: crashed
        bcs over
        jsr delay
        jmp main

; ---- game over: paint the snake light red, the crash cell white, stop ------

over    ldx tidx
ov1     lda BODYLO,x
        sta ptr2
        lda BODYHI,x
        sta ptr2+1
        ldy #0
        lda #C_DEAD
        sta (ptr2),y
        cpx hidx
        beq ov2
        inx
        jmp ov1
ov2     lda #C_CRASH            ; ptr still holds the cell it ran into
        sta (ptr),y
        brk                     ; end of the game

; ---- clear the whole screen to black ---------------------------------------

clear   lda #<SCREEN
        sta ptr
        lda #>SCREEN
        sta ptr+1
        ldx #4                  ; 4 pages
        ldy #0
        lda #C_EMPTY
cl1     sta (ptr),y
        iny
        bne cl1
        inc ptr+1
        dex
        bne cl1
        rts

; ---- draw the wall around the edge of the screen --------------------------

border  ldx #31
        lda #C_WALL
bo1     sta SCREEN,x            ; top row
        sta SCREEN+32*31,x      ; bottom row
        dex
        bpl bo1
        lda #<SCREEN
        sta ptr
        lda #>SCREEN
        sta ptr+1
        ldx #32                 ; every row: its first and last column
bo2     lda #C_WALL
        ldy #0
        sta (ptr),y
        ldy #31
        sta (ptr),y
        lda ptr
        clc
        adc #32
        sta ptr
        bcc bo3
        inc ptr+1
bo3     dex
        bne bo2
        rts

; ---- the snake at the start: row 15, columns 5-8, head at column 8 ---------

START   = SCREEN+32*15+5        ; screen address of the tail segment

newsnake
        ldx #0
ns1     txa
        clc
        adc #<START
        sta BODYLO,x
        lda #>START
        sta BODYHI,x
        inx
        cpx #4
        bne ns1
        lda #0
        sta tidx
        lda #3
        sta hidx
        lda #C_BODY
        sta START
        sta START+1
        sta START+2
        lda #C_HEAD
        sta START+3
        lda #<(START+3)
        sta head
        lda #>(START+3)
        sta head+1
        lda #1                  ; moving right
        sta dir
        rts

; ---- put an apple on a random empty cell ------------------------------------

apple   lda RANDOM
        sta ptr2
        lda RANDOM
        and #3
        clc
        adc #>SCREEN            ; page $02-$05
        sta ptr2+1
        ldy #0
        lda (ptr2),y
        bne apple               ; wall, snake: try again
        lda #C_APPLE
        sta (ptr2),y
        rts

; ---- read a key: w/a/s/d turn, except straight back -------------------------

readkey lda KEY
        beq rk9                 ; no new key
        ldx #0
        stx KEY                 ; consume it
        and #$DF                ; lower case to upper case
        ldx #3
rk1     cmp keys,x
        beq rk2
        dex
        bpl rk1
        rts                     ; not a steering key
rk2     txa
        eor #2                  ; the opposite direction
        cmp dir
        beq rk9                 ; reversing onto itself: ignored
        stx dir
rk9     rts

keys    .byt "WDSA"             ; indexed by direction: up right down left

; ---- move the snake one cell; carry set on a crash --------------------------

step    lda #0
        sta ate
        lda dir
        asl
        tax
        lda head                ; ptr = head + delta[dir]
        clc
        adc delta,x
        sta ptr
        lda head+1
        adc delta+1,x
        sta ptr+1
        ldy #0
        lda (ptr),y
        beq st2                 ; empty cell
        cmp #C_APPLE
        beq st1
        sec                     ; wall or snake: crash
        rts

st1     inc ate                 ; eat the apple
        inc score
        lda grow
        clc
        adc #GROWBY
        sta grow
        jsr pip

st2     lda grow                ; growing: the tail stays where it is
        beq st3
        dec grow
        lda hidx
        sec
        sbc tidx
        cmp #MAXLEN-1
        bcc st4                 ; unless the snake is already at MAXLEN

st3     ldx tidx                ; erase the tail segment
        lda BODYLO,x
        sta ptr2
        lda BODYHI,x
        sta ptr2+1
        ldy #0
        lda #C_EMPTY
        sta (ptr2),y
        inc tidx

st4     ldy #0
        lda #C_BODY             ; the old head becomes body
        sta (head),y
        lda ptr                 ; the new head
        sta head
        lda ptr+1
        sta head+1
        lda #C_HEAD
        sta (head),y
        inc hidx
        ldx hidx
        lda head
        sta BODYLO,x
        lda head+1
        sta BODYHI,x
        lda ate
        beq st5
        jsr apple               ; a new apple once the head has moved on
st5     clc
        rts

delta   .word $FFE0, $0001, $0020, $FFFF        ; up right down left

; ---- score: one yellow pip per apple in the top wall, then the bottom wall --

pip     ldx score
        lda #C_SCORE
        cpx #31
        bcs pi1
        sta SCREEN,x            ; apples 1-30: top wall, columns 1-30
        rts
pi1     cpx #61
        bcs pi2                 ; more than 60: no more room
        sta SCREEN+32*31-30,x   ; apples 31-60: bottom wall, columns 1-30
pi2     rts

; ---- wait: DELAY * 1286 cycles ----------------------------------------------

delay   ldy #DELAY
dl1     ldx #0
dl2     dex
        bne dl2
        dey
        bne dl1
        rts
