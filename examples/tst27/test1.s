; test1: count r0 up to r1 in a two-instruction loop
        SET r0, 0
        SET r1, 0x01FFFFFF
        SET r2, 1
        PRINT r0
        PRINT r1
        PRINT r2
        PRINT r24
loop:   ADD r0, r2
        JLT r0, r1, loop
        PRINT r0
        PRINT r1
        PRINT r2
        END
