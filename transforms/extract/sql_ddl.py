"""Tables, primary keys and foreign keys declared by SQL DDL (a `.sql` script or dump).

    declared = read_ddl(sql_text)   # {"tables": [...], "foreign_keys": [...]} or None

Understands CREATE TABLE (column-level REFERENCES, table-level PRIMARY KEY /
FOREIGN KEY, named CONSTRAINTs) and ALTER TABLE ... ADD [CONSTRAINT] ... in the
common dialects: PostgreSQL / pg_dump (ONLY, schema.table), MySQL (backticks,
KEY/INDEX items, ENGINE options), SQLite, Oracle (ADD ( ... ) lists, REFERENCES
without columns) and SQL Server ([brackets], WITH CHECK ADD, GO separators).
It is a scanner, not a SQL parser: strings and comments are masked first, then
only CREATE TABLE and ALTER TABLE statements are tokenised, so a dump of mostly
INSERTs costs one linear pass.
"""

from __future__ import annotations

import re
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

# Strings and comments to mask; quoted identifiers are kept as they are.
_MASK = re.compile(
    r"""'(?:[^'\\]|\\.|'')*'"""  # string literal ('' and MySQL \' escapes)
    r"""|"(?:[^"]|"")*"|`(?:[^`]|``)*`"""  # quoted identifiers: kept
    r"""|--[^\n]*|/\*.*?\*/|^[ \t]*\#[^\n]*"""  # comments (# only at a line start)
    r"""|\$(?P<tag>(?:[A-Za-z_]\w*)?)\$.*?\$(?P=tag)\$""",  # PostgreSQL dollar-quoted bodies
    re.S | re.M,
)
_HEAD = re.compile(r"\b(?:CREATE|ALTER)\b", re.I)
_TOKEN = re.compile(
    r"""\s+|("(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]\n]*\])"""  # 1: quoted identifier
    r"""|('')"""  # 2: a masked string
    r"""|([^\W\d]|[#@$])[\w$#@]*"""  # a word (3 is its first character)
    r"""|(\d+(?:\.\d+)?)"""  # 4: a number
    r"""|(.)""",  # 5: punctuation
    re.S,
)
MAX_STATEMENT_TOKENS = 50_000
MAX_TABLES = 5_000
# Words that may sit between CREATE and TABLE.
_CREATE_MODIFIERS = {"OR", "REPLACE", "GLOBAL", "LOCAL", "TEMPORARY", "TEMP", "UNLOGGED", "TRANSIENT", "VOLATILE",
                     "EXTERNAL", "VIRTUAL", "MULTISET", "SET", "SHARDED", "DUPLICATED"}
# Table items that are neither columns nor keys we read.
_SKIPPED_ITEMS = {"UNIQUE", "CHECK", "EXCLUDE", "FULLTEXT", "SPATIAL", "LIKE", "PERIOD", "PARTITION", "INDEX", "KEY"}
# Words that end an ALTER TABLE statement when a dump leaves out the semicolon.
_STATEMENT_WORDS = {"CREATE", "ALTER", "INSERT", "DROP", "UPDATE", "DELETE", "GO", "GRANT", "COMMENT", "SET", "SELECT"}


def mask(sql: str) -> str:
    """The script with string literals emptied and comments blanked; quoted identifiers kept."""
    def replace(match: "re.Match[str]") -> str:
        text = match.group(0)
        if text[0] in "\"`":
            return text
        return "''" if text[0] == "'" else " "

    return _MASK.sub(replace, sql)


def _tokens(code: str, start: int) -> Iterator[Tuple[str, str]]:
    """(kind, text) tokens of one statement from `start` to its ';', read lazily and bounded.

    kind is 'ident' (quoted), 'word', 'string', 'number' or 'punct'.
    """
    count = 0
    for match in _TOKEN.finditer(code, start):
        if match.group(1):
            yield "ident", _unquote(match.group(1))
        elif match.group(2):
            yield "string", "''"
        elif match.group(3):
            yield "word", match.group(0)
        elif match.group(4):
            yield "number", match.group(4)
        elif match.group(5):
            if match.group(5) == ";":
                return
            yield "punct", match.group(5)
        else:
            continue  # whitespace
        count += 1
        if count >= MAX_STATEMENT_TOKENS:
            return


def _unquote(text: str) -> str:
    if text[0] == "[":
        return text[1:-1]
    quote = text[0]
    return text[1:-1].replace(quote * 2, quote)


def _is_word(token: Tuple[str, str], *words: str) -> bool:
    return token[0] == "word" and token[1].upper() in words


class _Statement:
    """A cursor over one statement's tokens, pulled from `source` as far as they are looked at."""

    def __init__(self, source: Iterable[Tuple[str, str]]):
        self.tokens: List[Tuple[str, str]] = []
        self._source = iter(source)
        self.i = 0

    def peek(self, ahead: int = 0) -> Tuple[str, str]:
        j = self.i + ahead
        while len(self.tokens) <= j:
            token = next(self._source, None)
            if token is None:
                return "end", ""
            self.tokens.append(token)
        return self.tokens[j]

    def take(self) -> Tuple[str, str]:
        token = self.peek()
        self.i += 1
        return token

    def accept(self, *words: str) -> bool:
        if _is_word(self.peek(), *words):
            self.i += 1
            return True
        return False

    def accept_punct(self, char: str) -> bool:
        if self.peek() == ("punct", char):
            self.i += 1
            return True
        return False

    def name(self) -> Optional[str]:
        """A possibly qualified name (db.schema.table): its last part."""
        token = self.take()
        if token[0] not in ("ident", "word"):
            return None
        last = token[1]
        while self.peek() == ("punct", ".") and self.peek(1)[0] in ("ident", "word"):
            self.i += 1
            last = self.take()[1]
        return last

    def name_list(self) -> List[str]:
        """(a, b DESC, c(10)) -> [a, b, c]; the cursor must be on '('."""
        firsts = (item.peek() for item in self.items())
        return [token[1] for token in firsts if token[0] in ("ident", "word")]

    def items(self) -> List["_Statement"]:
        """The comma-separated items of a (...) group, each as its own cursor."""
        items: List[List[Tuple[str, str]]] = [[]]
        if not self.accept_punct("("):
            return []
        depth = 1
        while self.peek()[0] != "end":
            token = self.take()
            if token == ("punct", "("):
                depth += 1
            elif token == ("punct", ")"):
                depth -= 1
                if depth == 0:
                    break
            elif token == ("punct", ",") and depth == 1:
                items.append([])
                continue
            items[-1].append(token)
        return [_Statement(item) for item in items if item]


class _Schema:
    """Tables and keys collected over a whole script, in order of appearance."""

    def __init__(self) -> None:
        self.tables: Dict[str, Dict] = {}  # casefolded name -> table
        self.foreign_keys: List[Dict] = []

    def table(self, name: str, create: bool = False) -> Optional[Dict]:
        key = name.casefold()
        if key not in self.tables and create and len(self.tables) < MAX_TABLES:
            self.tables[key] = {"name": name, "path": None, "columns": [], "primary_key": []}
        return self.tables.get(key)

    def add_foreign_key(self, table: str, columns: List[str], ref_table: str, ref_columns: List[str]) -> None:
        self.foreign_keys.append({"table": table, "columns": columns, "ref_table": ref_table,
                                  "ref_columns": ref_columns})

    def declared(self) -> Dict:
        tables = list(self.tables.values())
        keys = []
        seen = set()
        for fk in self.foreign_keys:
            ref_columns = fk["ref_columns"]
            parent = self.tables.get(fk["ref_table"].casefold())
            if ref_columns:
                target = f"{fk['ref_table']} ({', '.join(ref_columns)})"
            elif parent and parent["primary_key"]:
                ref_columns = list(parent["primary_key"])
                target = f"{fk['ref_table']} [primary key {', '.join(ref_columns)}]"
            else:
                target = fk["ref_table"]
            basis = f"FOREIGN KEY ({', '.join(fk['columns'])}) REFERENCES {target}"
            key = (fk["table"].casefold(), basis)
            if key not in seen:
                seen.add(key)
                keys.append({**fk, "ref_columns": ref_columns, "basis": basis})
        return {"format": "sql_ddl", "tables": tables, "foreign_keys": keys}


def _references(stmt: _Statement) -> Optional[Tuple[str, List[str]]]:
    """After REFERENCES: (table, columns); columns are [] when the primary key is meant."""
    table = stmt.name()
    if table is None:
        return None
    columns = stmt.name_list() if stmt.peek() == ("punct", "(") else []
    return table, columns


def _constraint(stmt: _Statement, table: Dict, schema: _Schema) -> bool:
    """A table-level constraint (CONSTRAINT name already skipped); False when it is a column."""
    if stmt.accept("PRIMARY"):
        stmt.accept("KEY")
        while stmt.accept("CLUSTERED", "NONCLUSTERED", "USING", "BTREE", "HASH"):
            pass
        table["primary_key"] = stmt.name_list()
        return True
    if stmt.accept("FOREIGN"):
        stmt.accept("KEY")
        if stmt.peek()[0] in ("ident", "word") and stmt.peek(1) == ("punct", "("):
            stmt.take()  # MySQL: FOREIGN KEY index_name (col)
        columns = stmt.name_list()
        if stmt.accept("REFERENCES"):
            ref = _references(stmt)
            if ref and columns:
                schema.add_foreign_key(table["name"], columns, ref[0], ref[1])
        return True
    first = stmt.peek()
    if _is_word(first, *_SKIPPED_ITEMS):
        if _is_word(first, "KEY", "INDEX", "UNIQUE") and not _is_index(stmt):
            return False  # a column named key / index
        return True
    return False


def _is_index(stmt: _Statement) -> bool:
    """KEY idx (col) / INDEX (col) / UNIQUE [KEY] (col) as opposed to a column called key."""
    j = 1
    while _is_word(stmt.peek(j), "KEY", "INDEX"):
        j += 1
    nxt = stmt.peek(j)
    if nxt == ("punct", "("):
        return stmt.peek(j + 1)[0] in ("ident", "word")
    if nxt[0] in ("ident", "word") and stmt.peek(j + 1) == ("punct", "("):
        return stmt.peek(j + 2)[0] in ("ident", "word")
    return nxt[0] == "end" or _is_word(stmt.peek(0), "UNIQUE")


def _column(stmt: _Statement, table: Dict, schema: _Schema) -> None:
    """A column definition with its inline PRIMARY KEY / REFERENCES."""
    token = stmt.take()
    if token[0] not in ("ident", "word"):
        return
    name = token[1]
    if name not in table["columns"]:
        table["columns"].append(name)
    while stmt.peek()[0] != "end":
        if stmt.accept("PRIMARY") and stmt.accept("KEY"):
            table["primary_key"] = [name]
        elif stmt.accept("REFERENCES"):
            ref = _references(stmt)
            if ref:
                schema.add_foreign_key(table["name"], [name], ref[0], ref[1])
        elif stmt.peek() == ("punct", "("):
            stmt.items()  # a type's size, a CHECK or DEFAULT expression
        else:
            stmt.take()


def _table_item(stmt: _Statement, table: Dict, schema: _Schema) -> None:
    if stmt.accept("CONSTRAINT"):
        if not _is_word(stmt.peek(), "PRIMARY", "FOREIGN", "UNIQUE", "CHECK"):
            stmt.take()  # the constraint's name
    start = stmt.i
    if not _constraint(stmt, table, schema):
        stmt.i = start
        _column(stmt, table, schema)


def _create_table(stmt: _Statement, schema: _Schema) -> None:
    stmt.take()  # CREATE
    while stmt.accept(*_CREATE_MODIFIERS):
        pass
    if not stmt.accept("TABLE"):
        return
    if stmt.accept("IF"):
        stmt.accept("NOT")
        stmt.accept("EXISTS")
    name = stmt.name()
    if name is None or stmt.peek() != ("punct", "("):
        return  # CREATE TABLE ... AS SELECT, or not a table
    table = schema.table(name, create=True)
    if table is None:
        return
    for item in stmt.items():
        _table_item(item, table, schema)


def _alter_table(stmt: _Statement, schema: _Schema) -> None:
    stmt.take()  # ALTER
    if not stmt.accept("TABLE"):
        return
    stmt.accept("ONLY")
    if stmt.accept("IF"):
        stmt.accept("EXISTS")
    name = stmt.name()
    if name is None:
        return
    # A table this script does not create still has the keys it declares.
    table = schema.table(name) or {"name": name, "columns": [], "primary_key": []}
    while stmt.peek()[0] != "end" and not _is_word(stmt.peek(), *_STATEMENT_WORDS):
        if not stmt.accept("ADD"):
            stmt.take()
            continue
        if stmt.peek() == ("punct", "("):  # Oracle: ADD ( item, item )
            for item in stmt.items():
                _table_item(item, table, schema)
            continue
        stmt.accept("COLUMN")
        if stmt.accept("IF"):
            stmt.accept("NOT")
            stmt.accept("EXISTS")
        clause = _clause(stmt)
        _table_item(clause, table, schema)


def _clause(stmt: _Statement) -> _Statement:
    """The tokens of one ADD clause: up to a ',' at depth 0, the next ADD or the statement's end."""
    tokens: List[Tuple[str, str]] = []
    depth = 0
    while stmt.peek()[0] != "end":
        token = stmt.peek()
        if depth == 0 and (token == ("punct", ",") or _is_word(token, "ADD", *_STATEMENT_WORDS)):
            if token == ("punct", ","):
                stmt.take()
            break
        depth += token == ("punct", "(")
        depth -= token == ("punct", ")")
        tokens.append(stmt.take())
    return _Statement(tokens)


def read_ddl(sql: str) -> Optional[Dict]:
    """The tables and keys a SQL script declares, or None when it declares no table or key."""
    code = mask(sql)
    schema = _Schema()
    for match in _HEAD.finditer(code):
        stmt = _Statement(_tokens(code, match.start()))
        nxt = stmt.peek(1)
        if _is_word(stmt.peek(), "CREATE"):
            if _is_word(nxt, "TABLE", *_CREATE_MODIFIERS):
                _create_table(stmt, schema)
        elif _is_word(nxt, "TABLE"):
            _alter_table(stmt, schema)
    declared = schema.declared()
    if not declared["tables"] and not declared["foreign_keys"]:
        return None
    return declared
