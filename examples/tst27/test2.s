; test2: five rounds of counting r0 up to r1
        SET r1, 0x00FFFFFF
        SET r2, 1
        SET r10, 0
        SET r11, 5
        PRINT r0
        PRINT r1
        PRINT r2
        PRINT r10
        PRINT r11
        PRINT r24
outer:  ADD r10, r2
        SET r0, 0
inner:  ADD r0, r2
        JLT r0, r1, inner
        JLT r10, r11, outer
        PRINT r0
        PRINT r1
        PRINT r2
        PRINT r10
        PRINT r11
        END
