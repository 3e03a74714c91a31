"""The 6502 benchmark kernels (benchmarks/6502) compute what their sources say, agree with py65
over the whole machine with and without the optimizer, and the committed images match."""

from __future__ import annotations

from pathlib import Path

import pytest

import recomp
from test_6502_smc import FLAGS

mpu6502 = pytest.importorskip("py65.devices.mpu6502")

KERNELS = Path(__file__).resolve().parents[1] / "benchmarks" / "6502"
NAMES = sorted(p.stem for p in KERNELS.glob("*.bin"))
REPS = 0x0203  # each kernel's repetition count
ORIGIN = 0x0200


def image(name: str) -> bytearray:
    data = bytearray(0x10000)
    code = (KERNELS / f"{name}.bin").read_bytes()
    data[ORIGIN:ORIGIN + len(code)] = code
    data[REPS] = 1
    return data


def on_py65(name: str) -> tuple:
    memory = image(name)
    mpu = mpu6502.MPU(memory=memory, pc=ORIGIN)
    steps = 0
    while True:
        pc = mpu.pc
        mpu.step()
        steps += 1
        if mpu.pc == pc:
            break
    return (mpu.pc, mpu.a, mpu.x, mpu.y, mpu.sp, mpu.p & FLAGS, steps, bytes(memory))


def on_recomp(name: str, optimize: bool) -> tuple:
    emu = recomp.Emulator("6502", console=None, optimize=optimize)
    emu.load(bytes(image(name)), at=0)
    emu.state.pc, emu.state.p = ORIGIN, 0x30
    result = emu.run(stop_on_trap=True, max_instructions=5_000_000)
    assert result.exit == "trap"
    st = emu.state
    return (st.pc, st.a, st.x, st.y, st.s, st.p & FLAGS, emu.instructions, emu.memory[0:0x10000])


def crc16_ccitt(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = (crc << 1 ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def mul16_sum(products: int) -> int:
    total, a, b = 0, 0x1234, 0xABCD
    for _ in range(products):
        total += a * b
        a, b = (a + 3) & 0xFFFF, (b + 5) & 0xFFFF
    return total & 0xFFFFFFFF


# what each kernel leaves in memory after one repetition: (address, bytes)
RESULTS = {
    "sieve": (0x10, (1028).to_bytes(2, "little")),
    "crc16": (0x10, crc16_ccitt(bytes(7 * i & 0xFF for i in range(4096))).to_bytes(2, "little")),
    "mul16": (0x18, mul16_sum(256).to_bytes(4, "little")),
    "memcpy": (0x6000, bytes(i ^ p for p in range(32) for i in range(256))),
    "sort": (0x4000, bytes(range(256))),
    "bcd": (0x10, bytes([0x36, 0x55, 0x06])),  # 65536 in BCD
}


def test_every_kernel_has_an_expected_result():
    assert set(RESULTS) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_kernel_agrees_with_py65(name):
    reference = on_py65(name)
    address, expected = RESULTS[name]
    assert reference[-1][address:address + len(expected)] == expected
    for optimize in (True, False):
        got = on_recomp(name, optimize)
        assert got[:-1] == reference[:-1], optimize
        assert got[-1] == reference[-1], optimize
