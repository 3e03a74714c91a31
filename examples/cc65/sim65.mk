# The rules both cc65 Makefiles share (examples/cc65 and benchmarks/cc65): build each program of
# PROGS for the sim65 machine, and record what the real sim65 does with them (reference.py in
# the including folder writes expected.json).  Set PROGS, then include this file.

CL65    ?= cl65
SIM65   ?= sim65
PYTHON  ?= python3
CFLAGS  ?= -t sim6502 -O

SIMS  := $(addsuffix .sim,$(PROGS))

all: $(SIMS)

%.sim: %.c
	$(CL65) $(CFLAGS) -o $@ $<
	rm -f $*.o

# Always re-runs sim65.
expected: $(SIMS)
	SIM65=$(SIM65) $(PYTHON) reference.py --out expected.json $(PROGS)

clean:
	rm -f $(SIMS) $(addsuffix .o,$(PROGS))

.PHONY: all expected clean
