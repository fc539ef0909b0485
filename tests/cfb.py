"""A minimal writer of OLE compound files (MS-CFB version 3), to build .msg, .doc and hostile
container samples in tests. Streams under 4096 bytes go to the mini stream, as the format requires.

    data = compound_file({"WordDocument": b"...", ("__attach_version1.0_#00000000", "__substg1.0_3707001F"): b"..."})
"""

import struct
from typing import Dict, List, Tuple, Union

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FAT_MARK, NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
Path = Union[str, Tuple[str, ...]]


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b""):
        self.name, self.kind, self.data = name, kind, data
        self.children: List["_Entry"] = []
        self.index = 0
        self.left = self.right = self.child = NONE
        self.start, self.size = END, len(data)


def _order(entry: _Entry):
    return len(entry.name), entry.name.upper()


def _tree(entries: List[_Entry]) -> int:
    """Links sorted siblings as a balanced binary tree; returns the root's index."""
    if not entries:
        return NONE
    middle = len(entries) // 2
    root = entries[middle]
    root.left, root.right = _tree(entries[:middle]), _tree(entries[middle + 1 :])
    return root.index


def compound_file(streams: Dict[Path, bytes]) -> bytes:
    root = _Entry("Root Entry", 5)
    order = [root]
    for path, data in sorted(streams.items(), key=lambda item: (item[0],) if isinstance(item[0], str) else item[0]):
        parts = (path,) if isinstance(path, str) else tuple(path)
        parent = root
        for name in parts[:-1]:
            found = next((c for c in parent.children if c.name == name and c.kind == 1), None)
            if found is None:
                found = _Entry(name, 1)
                parent.children.append(found)
                order.append(found)
            parent = found
        leaf = _Entry(parts[-1], 2, data)
        parent.children.append(leaf)
        order.append(leaf)
    for index, entry in enumerate(order):
        entry.index = index
    for entry in order:
        entry.child = _tree(sorted(entry.children, key=_order))

    small = [e for e in order if e.kind == 2 and e.size < CUTOFF]
    big = [e for e in order if e.kind == 2 and e.size >= CUTOFF]
    mini_stream, mini_fat = b"", []
    for entry in small:
        count = -(-entry.size // MINI)
        entry.start = len(mini_stream) // MINI if count else END
        mini_fat += [len(mini_fat) + i + 1 for i in range(count - 1)] + ([END] if count else [])
        mini_stream += entry.data + b"\0" * (count * MINI - entry.size)
    root.size = len(mini_stream)

    def sectors(size: int) -> int:
        return -(-size // SECTOR)

    dir_count = sectors(len(order) * 128)
    minifat_count = sectors(len(mini_fat) * 4)
    ministream_count = sectors(len(mini_stream))
    big_counts = [sectors(e.size) for e in big]
    payload = dir_count + minifat_count + ministream_count + sum(big_counts)
    fat_count = 1
    while fat_count * (SECTOR // 4) < payload + fat_count:
        fat_count += 1
    if fat_count > 109:
        raise ValueError("too large for a header-only FAT")

    fat: List[int] = [FAT_MARK] * fat_count
    body: List[bytes] = []

    def chain(data: bytes, count: int) -> int:
        if not count:
            return END
        first = len(fat)
        fat.extend(list(range(first + 1, first + count)) + [END])
        body.append(data + b"\0" * (count * SECTOR - len(data)))
        return first

    directory_start = chain(b"", dir_count)  # filled below, once starts are known
    minifat_start = chain(b"".join(struct.pack("<I", v) for v in mini_fat), minifat_count) if mini_fat else END
    root.start = chain(mini_stream, ministream_count) if mini_stream else END
    for entry, count in zip(big, big_counts):
        entry.start = chain(entry.data, count)
    fat += [FREE] * (fat_count * (SECTOR // 4) - len(fat))

    records = b"".join(_record(e) for e in order)
    body[0] = records + b"\0" * (dir_count * SECTOR - len(records))
    header = _header(fat_count, directory_start, minifat_start, minifat_count)
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    return header + fat_bytes + b"".join(body)


def _header(fat_count: int, directory_start: int, minifat_start: int, minifat_count: int) -> bytes:
    head = struct.pack("<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\0" * 16, 0x3E, 3,
                       0xFFFE, 9, 6, b"\0" * 6, 0, fat_count, directory_start, 0, CUTOFF, minifat_start,
                       minifat_count, END, 0)
    difat = list(range(fat_count)) + [FREE] * (109 - fat_count)
    return head + b"".join(struct.pack("<I", v) for v in difat)


def _record(entry: _Entry) -> bytes:
    name = entry.name.encode("utf-16-le")[:62] + b"\0\0"
    return struct.pack("<64sHBBIII16sIQQIQ", name, len(name), entry.kind, 1, entry.left, entry.right,
                       entry.child, b"\0" * 16, 0, 0, 0, entry.start, entry.size)


def property_stream(values: Dict[int, bytes], header: int) -> bytes:
    """A __properties_version1.0 stream: `header` reserved bytes, then one 16-byte entry per
    fixed-size property {tag (id << 16 | type): 8-byte value}."""
    entries = b"".join(struct.pack("<II", tag, 0x06) + value.ljust(8, b"\0") for tag, value in values.items())
    return b"\0" * header + entries


def filetime(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> bytes:
    import datetime as dt

    delta = dt.datetime(year, month, day, hour, minute, tzinfo=dt.timezone.utc) - dt.datetime(
        1601, 1, 1, tzinfo=dt.timezone.utc)
    return struct.pack("<Q", int(delta.total_seconds()) * 10_000_000)


def unicode_stream(text: str) -> bytes:
    return text.encode("utf-16-le")

