#!/usr/bin/env python3
"""Makes docs/package/icon.png, the packages' 128x128 icon: four digits our default VAE sampled from its prior
(cells of docs/images/default-samples.png, the README's figure), on black. Python's standard library only.
Run from anywhere: python3 docs/package/make-icon.py"""
import os, struct, zlib

here = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(here, "..", "images", "default-samples.png")
TARGET = os.path.join(here, "icon.png")
SIZE = 128
# The top-left corner and side of the 2 x 2 block of cells taken from the 8 x 8 grid (rows 5 and 6, columns 3 and 4).
LEFT, TOP, SIDE = 118, 253, 114


def read_rgb(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (0, 2), "8-bit grey or RGB only"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 3 if color == 2 else 1
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line if bpp == 3 else bytearray(v for g in line for v in (g, g, g)))
        prev = line
    return width, height, rows


def write_rgb(path, width, height, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    open(path, "wb").write(png)


width, height, rows = read_rgb(SOURCE)
pad = (SIZE - SIDE) // 2
icon = [bytearray(SIZE * 3) for _ in range(SIZE)]
for y in range(SIDE):
    icon[pad + y][pad * 3:(pad + SIDE) * 3] = rows[TOP + y][LEFT * 3:(LEFT + SIDE) * 3]
write_rgb(TARGET, SIZE, SIZE, icon)
print(f"wrote {TARGET}: {SIZE}x{SIZE}, from {SOURCE} ({width}x{height}) at ({LEFT}, {TOP})")
