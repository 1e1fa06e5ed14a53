"""Rebuilds austen.txt from Debian's r-cran-janeaustenr package (no R needed).

    apt-get download r-cran-janeaustenr && dpkg -x r-cran-janeaustenr_*.deb pkg
    python3 extract_janeaustenr.py pkg/usr/lib/R/site-library/janeaustenr/data/Rdata.rdb > austen.txt

Rdata.rdb is R's lazy-load database: one record per object, each a 4-byte big-endian
length followed by a zlib stream holding the object in R's XDR serialization. The novels
are plain character vectors (one element per line of text), which is all this reads.
"""
import struct
import sys
import zlib

STRSXP = 16


def records(blob):
    pos = 0
    while pos < len(blob):
        inflater = zlib.decompressobj()
        raw = inflater.decompress(blob[pos + 4:])
        pos = len(blob) - len(inflater.unused_data)
        yield raw


def character_vector(raw):
    """The lines of a serialized character vector, or None for any other object."""
    if raw[:2] != b'X\n':
        return None
    version = struct.unpack('>I', raw[2:6])[0]
    p = 14  # format, version, writer's R version, oldest reader's version
    if version == 3:
        p += 4 + struct.unpack('>i', raw[p:p + 4])[0]  # native encoding name
    flags = struct.unpack('>I', raw[p:p + 4])[0]
    p += 4
    if flags & 0xFF != STRSXP:
        return None
    count = struct.unpack('>i', raw[p:p + 4])[0]
    p += 4
    lines = []
    for _ in range(count):
        length = struct.unpack('>i', raw[p + 4:p + 8])[0]  # skip the CHARSXP's flags
        p += 8
        if length == -1:  # NA
            lines.append('')
            continue
        lines.append(raw[p:p + length].decode('utf-8'))
        p += length
    return lines


# Record order in the package's database: emma, mansfieldpark, northangerabbey, persuasion,
# prideprejudice, sensesensibility. austen.txt is Pride and Prejudice then Persuasion.
WANTED = {'PRIDE AND PREJUDICE': 0, 'Persuasion': 1}

books = {}
for raw in records(open(sys.argv[1], 'rb').read()):
    lines = character_vector(raw)
    if lines and lines[0] in WANTED:
        books[WANTED[lines[0]]] = '\n'.join(lines) + '\n'
sys.stdout.write(''.join(books[i] for i in sorted(books)))
