"""Minimal FITS editing for the fuzz driver (stdlib only): HDU layout, card edits, checksums.

Crafted files are built from the real files at test time; nothing crafted is committed.
"""
import math
import struct

BLOCK = 2880
CARD = 80


class Hdu:
    def __init__(self, hstart, hlen, cards, dstart, dlen):
        self.hstart, self.hlen, self.cards, self.dstart, self.dlen = hstart, hlen, cards, dstart, dlen

    def value(self, key):
        for c in self.cards:
            if c[:8].rstrip() == key and c[8:10] == '= ':
                return c[10:].split('/')[0].strip().strip("'").strip()
        return None


def _ival(cards, key, default=0):
    for c in cards:
        if c[:8].rstrip() == key and c[8:10] == '= ':
            try:
                return int(c[10:].split('/')[0].strip())
            except ValueError:
                return default
    return default


def parse(data):
    """HDU layout of well-formed FITS bytes (the real files)."""
    hdus, off = [], 0
    while off + BLOCK <= len(data):
        cards, hstart = [], off
        while True:
            blk = data[off:off + BLOCK]
            off += BLOCK
            end = False
            for i in range(36):
                c = blk[i * CARD:(i + 1) * CARD].decode('latin-1')
                cards.append(c)
                if c[:8] == 'END     ':
                    end = True
                    break
            if end or off >= len(data):
                break
        naxis = _ival(cards, 'NAXIS')
        size = 0
        if naxis:
            size = abs(_ival(cards, 'BITPIX', 8)) // 8
            for i in range(1, naxis + 1):
                size *= _ival(cards, 'NAXIS%d' % i)
            size += _ival(cards, 'PCOUNT')
        dlen = (size + BLOCK - 1) // BLOCK * BLOCK
        hdus.append(Hdu(hstart, off - hstart, cards, off, dlen))
        off += dlen
    return hdus


def image_hdu(hdus):
    """Index of the HDU holding the image (the first with data)."""
    for i, h in enumerate(hdus):
        if h.dlen:
            return i
    return 0


def fmt_value(v):
    """A FITS value field for a Python value (strings quoted, raw text passed through with r'')."""
    if isinstance(v, bool):
        return ('T' if v else 'F').rjust(20)
    if isinstance(v, int):
        return str(v).rjust(20)
    if isinstance(v, float):
        if math.isnan(v):
            return 'NaN'.rjust(20)
        return repr(v).upper().rjust(20)
    if isinstance(v, bytes):  # raw value text, verbatim
        return v.decode('latin-1')
    s = "'" + str(v).replace("'", "''").ljust(8) + "'"
    return s.ljust(20)


def make_card(key, v, comment=''):
    c = key.ljust(8)[:8] + '= ' + fmt_value(v)
    if comment:
        c += ' / ' + comment
    return c[:CARD].ljust(CARD)


def header_bytes(cards):
    body = ''.join(c[:CARD].ljust(CARD) for c in cards)
    body += ' ' * ((-len(body)) % BLOCK)
    return body.encode('latin-1')


def rebuild(data, hdus, idx, cards):
    """Bytes with HDU idx's header replaced by `cards` (END included; padded to blocks)."""
    h = hdus[idx]
    return data[:h.hstart] + header_bytes(cards) + data[h.hstart + h.hlen:]


def set_card(cards, key, v, occurrence=0, raw=None):
    """Replace the value of KEY (keeping the comment) or insert before END."""
    out, seen, done = list(cards), 0, False
    for i, c in enumerate(out):
        if c[:8].rstrip() == key and c[8:10] == '= ':
            if seen == occurrence:
                out[i] = raw if raw is not None else make_card(key, v)
                done = True
                break
            seen += 1
    if not done:
        end = next(i for i, c in enumerate(out) if c[:8] == 'END     ')
        out.insert(end, raw if raw is not None else make_card(key, v))
    return out


def del_card(cards, key):
    return [c for c in cards if c[:8].rstrip() != key]


def dup_card(cards, key, v):
    """Insert a second KEY card right after the first (value v)."""
    for i, c in enumerate(cards):
        if c[:8].rstrip() == key:
            return cards[:i + 1] + [make_card(key, v)] + cards[i + 1:]
    return cards


# --- FITS checksums (32-bit ones' complement sum; ASCII encoding of the complement) ---

def csum(b, s=0):
    n = len(b) // 4
    total = s + sum(struct.unpack('>%dI' % n, b[:n * 4]))
    while total >> 32:
        total = (total & 0xFFFFFFFF) + (total >> 32)
    return total


_EXCL = (0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60)


def encode_checksum(value):
    value = (~value) & 0xFFFFFFFF
    asc = [0] * 16
    for i in range(4):
        byte = (value >> (24 - 8 * i)) & 0xFF
        q, r = byte // 4 + ord('0'), byte % 4
        ch = [q + r, q, q, q]
        check = True
        while check:
            check = False
            for k in _EXCL:
                for j in (0, 2):
                    if ch[j] == k or ch[j + 1] == k:
                        ch[j] += 1
                        ch[j + 1] -= 1
                        check = True
        for j in range(4):
            asc[4 * j + i] = ch[j]
    asc = asc[15:] + asc[:15]
    return bytes(asc).decode('ascii')


def _replace_string_value(card, text):
    return (card[:10] + ("'" + text + "'").ljust(20) + card[30:])[:CARD].ljust(CARD)


def fix_checksums(data):
    """Recompute DATASUM/CHECKSUM of every HDU that carries them (so a crafted header is not
    refused by the checksum alone and the checks behind it are exercised)."""
    hdus = parse(data)
    for idx in range(len(hdus) - 1, -1, -1):
        h = hdus[idx]
        keys = [c[:8].rstrip() for c in h.cards]
        if 'CHECKSUM' not in keys:
            continue
        body = data[h.dstart:h.dstart + h.dlen]
        cards = list(h.cards)
        ds = csum(body)
        for i, c in enumerate(cards):
            if c[:8].rstrip() == 'DATASUM':
                cards[i] = _replace_string_value(c, str(ds))
            if c[:8].rstrip() == 'CHECKSUM':
                cards[i] = _replace_string_value(c, '0' * 16)
        hb = header_bytes(cards)
        total = csum(hb, ds)
        enc = encode_checksum(total)
        cards = [_replace_string_value(c, enc) if c[:8].rstrip() == 'CHECKSUM' else c for c in cards]
        data = rebuild(data, hdus, idx, cards)
    return data


def checksum_ok(data, idx):
    h = parse(data)[idx]
    return csum(data[h.hstart:h.dstart + h.dlen]) == 0xFFFFFFFF


def simple_image(cards_from, rows, cols, pixels, bitpix=-64):
    """An uncompressed primary-HDU image: the non-structural cards of `cards_from` + `pixels`
    (row-major list of floats/ints) of shape rows x cols."""
    keep = [c for c in cards_from if c[:8].rstrip() not in (
        'SIMPLE', 'BITPIX', 'NAXIS', 'NAXIS1', 'NAXIS2', 'EXTEND', 'END', 'CHECKSUM', 'DATASUM',
        'XTENSION', 'PCOUNT', 'GCOUNT', 'BSCALE', 'BZERO', 'BLANK')]
    cards = [make_card('SIMPLE', True), make_card('BITPIX', bitpix), make_card('NAXIS', 2),
             make_card('NAXIS1', cols), make_card('NAXIS2', rows)] + keep + ['END'.ljust(CARD)]
    fmtc = {-64: 'd', -32: 'f', 16: 'h', 32: 'i'}[bitpix]
    body = struct.pack('>%d%s' % (rows * cols, fmtc), *pixels)
    body += b'\0' * ((-len(body)) % BLOCK)
    return header_bytes(cards) + body
