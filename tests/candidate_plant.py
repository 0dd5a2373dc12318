#!/usr/bin/env python3
"""Planted wrong candidates for tests/test_validate_candidate.sh (standard library only).

candidate_plant.py MODE IN.fits OUT.fits rewrites an uncompressed FITS image (BITPIX -32 or -64):
  shift   rolls the pixels by one column      scale   multiplies them by 1.01
  nan     replaces every pixel by NaN         garbage writes text that is not FITS
The DATASUM/CHECKSUM cards are blanked, since the data changed.
"""
import array
import sys


def main():
    mode, src, dst = sys.argv[1:4]
    if mode == "garbage":
        with open(dst, "w") as f:
            f.write("this is not a FITS file\n")
        return
    raw = open(src, "rb").read()
    cards, pos = [], 0
    while True:
        card = raw[pos:pos + 80].decode("ascii")
        pos += 80
        cards.append(card)
        if card.startswith("END "):
            break
    pos = (pos + 2879) // 2880 * 2880
    key = {c[:8].strip(): c[10:].split("/")[0].strip() for c in cards}
    bitpix, nx, ny = int(key["BITPIX"]), int(key["NAXIS1"]), int(key["NAXIS2"])
    a = array.array("f" if bitpix == -32 else "d")
    a.frombytes(raw[pos:pos + nx * ny * a.itemsize])
    if sys.byteorder == "little":
        a.byteswap()
    if mode == "shift":
        b = array.array(a.typecode, a)
        for r in range(ny):
            for c in range(nx):
                b[r * nx + c] = a[r * nx + (c - 1) % nx]
        a = b
    elif mode == "scale":
        a = array.array(a.typecode, (v * 1.01 for v in a))
    elif mode == "nan":
        a = array.array(a.typecode, [float("nan")] * len(a))
    else:
        sys.exit(f"candidate_plant.py: unknown mode {mode}")
    if sys.byteorder == "little":
        a.byteswap()
    header = b"".join((" " * 80 if c[:8].strip() in ("CHECKSUM", "DATASUM") else c).encode("ascii") for c in cards)
    header += b" " * (-len(header) % 2880)
    data = a.tobytes()
    data += b"\0" * (-len(data) % 2880)
    with open(dst, "wb") as f:
        f.write(header + data)


if __name__ == "__main__":
    main()
