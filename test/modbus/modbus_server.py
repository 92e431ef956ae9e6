"""A Modbus device for the gateway's tests, on pymodbus (the independent peer): RTU on a serial
path (one end of a socat pseudo-terminal pair) or TCP on 127.0.0.1.

Every unit id given serves the registers of a fixture file (test/modbus/fixture.json): each
entry a metric with its kind (holding, input, coil, discrete), address, type (int16, uint16,
int32, uint32, float32, bool), word and byte order and value. Values are encoded here with
Python's struct module, independently of the gateway's decoder.

Commands on stdin, one JSON object a line, each answered "ok" on stdout:
  {"unit": 2, "delayMs": 1500}    answers of unit 2 come this late (0: at once)
  {"unit": 3, "exception": 2}     unit 3 answers every read with this exception code (0: off)
  {"unit": 1, "set": {"kind": "holding", "address": 0, "words": [1, 2]}}   change registers
  {"unit": 1, "set": {"kind": "coil", "address": 0, "bits": [true]}}
"ready" is printed once the server listens; it exits when stdin closes (its parent died).

Usage: modbus_server.py --fixture F --units 1,2 (--rtu PATH [--baud N] | --tcp PORT)
"""

import argparse
import asyncio
import functools
import json
import struct
import sys

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

FORMATS = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "float32": ">f"}
KINDS = ("coil", "discrete", "holding", "input")
KIND_OF_FUNCTION = {1: "coil", 2: "discrete", 3: "holding", 4: "input"}
SIZE = 256  # registers (or coils, bit-addressed) per kind and unit


def encode(entry):
    """Register words of one fixture value, in its word and byte order."""
    raw = struct.pack(FORMATS[entry["type"]], entry["value"])
    words = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    if entry.get("wordOrder", "big") == "little":
        words.reverse()
    if entry.get("byteOrder", "big") == "little":
        words = [w[::-1] for w in words]
    return [int.from_bytes(w, "big") for w in words]


def memory(fixture):
    """Initial contents per kind: register words, or bits."""
    mem = {"coil": [False] * SIZE, "discrete": [False] * SIZE}
    mem.update({"holding": [0] * SIZE, "input": [0] * SIZE})
    for entry in fixture["registers"]:
        kind, at = entry["kind"], entry["address"]
        if entry["type"] == "bool":
            mem[kind][at] = bool(entry["value"])
        else:
            words = encode(entry)
            mem[kind][at : at + len(words)] = words
    return mem


class Unit:
    """One device's behaviour: how late it answers, which exception, pending changes."""

    def __init__(self):
        self.delay = 0.0
        self.exception = 0
        self.pending = []  # (kind, address, values) to apply on the next access of that kind

    async def action(self, function_code, start, _address, _count, registers, _values):
        kind = KIND_OF_FUNCTION.get(function_code)
        for change in [c for c in self.pending if c[0] == kind]:
            self.pending.remove(change)
            _, at, values = change
            if kind in ("coil", "discrete"):
                for i, bit in enumerate(values):  # bit-addressed: 16 per register, low bit first
                    reg, mask = (at + i) // 16 - start, 1 << ((at + i) % 16)
                    registers[reg] = (registers[reg] | mask) if bit else (registers[reg] & ~mask)
            else:
                registers[at - start : at - start + len(values)] = values
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.exception:
            return ExcCodes(self.exception)
        return None


def device(unit_id, unit, mem):
    bits = lambda kind: [SimData(0, values=mem[kind], datatype=DataType.BITS)]  # noqa: E731
    regs = lambda kind: [SimData(0, values=mem[kind], datatype=DataType.REGISTERS)]  # noqa: E731
    return SimDevice(
        id=unit_id,
        simdata=(bits("coil"), bits("discrete"), regs("holding"), regs("input")),
        action=functools.partial(Unit.action, unit),
    )


async def commands(units):
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return  # stdin closed: the test (our parent) is gone
        if not line.strip():
            continue
        cmd = json.loads(line)
        unit = units[cmd["unit"]]
        if "delayMs" in cmd:
            unit.delay = cmd["delayMs"] / 1000
        if "exception" in cmd:
            unit.exception = cmd["exception"]
        if "set" in cmd:
            s = cmd["set"]
            unit.pending.append((s["kind"], s["address"], s.get("words", s.get("bits"))))
        print("ok", flush=True)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--fixture", required=True)
    p.add_argument("--units", default="1")
    p.add_argument("--rtu")
    p.add_argument("--baud", type=int, default=9600)
    p.add_argument("--tcp", type=int)
    args = p.parse_args()
    with open(args.fixture, encoding="utf-8") as f:
        fixture = json.load(f)
    mem = memory(fixture)
    units = {int(u): Unit() for u in args.units.split(",")}
    devices = [device(u, units[u], mem) for u in units]
    if args.rtu:
        server = ModbusSerialServer(
            devices, framer=FramerType.RTU, port=args.rtu, baudrate=args.baud
        )
    else:
        server = ModbusTcpServer(devices, framer=FramerType.SOCKET, address=("127.0.0.1", args.tcp))
    await server.serve_forever(background=True)
    print("ready", flush=True)
    await commands(units)
    await server.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
