"""A small YAML reader for the manifests in deploy/ (Python standard library only).

It reads the subset the manifests are written in and refuses everything else
with the file and line, so a manifest that drifts out of the subset fails the
check instead of being misread:

  - documents separated by `---`; comments (`#` at a line's start or after a space);
  - block mappings and block sequences (a sequence may sit at its key's indentation);
  - scalars: plain, "double-quoted" (JSON escapes), 'single-quoted';
    true/false/null and integers are converted, everything else stays a string;
  - flow sequences of scalars: ["a", "b"];
  - literal block scalars `|` and `|-` (kept verbatim, comments included).

Not supported (an error): anchors, aliases, tags, flow mappings, folded `>`
scalars, multi-line plain or quoted scalars, complex keys.
"""
import json
import re

_INT = re.compile(r"^[-+]?[0-9]+$")


class YamlError(Exception):
    pass


def _strip_comment(text):
    """Removes a trailing comment outside quotes."""
    quote, escaped = None, False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip()
    return text.rstrip()


def _split_key(text):
    """'key: value' -> (key, value) or None when the text is not a mapping entry."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'" and i == 0:
            quote = ch
        elif ch == ":" and (i + 1 == len(text) or text[i + 1] == " "):
            key = text[:i].strip()
            if key.startswith(("'", '"')):
                key = _scalar(key, None)
            return key, text[i + 1:].strip()
    return None


def _split_flow(body, where):
    items, cur, quote = [], "", None
    for ch in body:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            cur += ch
        elif ch == ",":
            items.append(cur.strip())
            cur = ""
        elif ch in "[]{}":
            raise YamlError(f"{where}: nested flow collections are not supported")
        else:
            cur += ch
    if quote:
        raise YamlError(f"{where}: unterminated quote")
    if cur.strip():
        items.append(cur.strip())
    return items


def _scalar(text, where):
    if text.startswith('"'):
        if not text.endswith('"') or len(text) < 2:
            raise YamlError(f"{where}: unterminated double-quoted scalar")
        return json.loads(text)
    if text.startswith("'"):
        if not text.endswith("'") or len(text) < 2:
            raise YamlError(f"{where}: unterminated single-quoted scalar")
        return text[1:-1].replace("''", "'")
    if text.startswith("["):
        if not text.endswith("]"):
            raise YamlError(f"{where}: flow sequence must close on its line")
        return [_scalar(t, where) for t in _split_flow(text[1:-1], where)]
    if text.startswith(("{", "&", "*", "!", ">", "%", "@", "`")):
        raise YamlError(f"{where}: unsupported YAML: {text!r}")
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    if text in ("null", "~", ""):
        return None
    if _INT.match(text):
        return int(text)
    return text


class _Reader:
    def __init__(self, lines, name, first_line):
        self.raw = lines
        self.name = name
        self.first = first_line
        self.pos = 0
        # Virtual overrides: line index -> (indent, text) for "- key: v" items.
        self.virtual = {}

    def where(self, i):
        return f"{self.name}:{self.first + i}"

    def peek(self):
        """(indent, text) of the next meaningful line, skipping blanks and comments."""
        while self.pos < len(self.raw):
            if self.pos in self.virtual:
                return self.virtual[self.pos]
            line = self.raw[self.pos]
            if "\t" in line[: len(line) - len(line.lstrip())]:
                raise YamlError(f"{self.where(self.pos)}: tab in indentation")
            text = _strip_comment(line.strip()) if not line.lstrip().startswith("#") else ""
            if text:
                return len(line) - len(line.lstrip()), text
            self.pos += 1
        return None

    def node(self, indent):
        nxt = self.peek()
        if nxt is None or nxt[0] < indent:
            return None
        if nxt[1] == "-" or nxt[1].startswith("- "):
            return self.sequence(nxt[0])
        return self.mapping(nxt[0])

    def block_literal(self, key_indent, chomp_keep_newline):
        out = []
        self.pos += 1
        block_indent = None
        while self.pos < len(self.raw):
            line = self.raw[self.pos]
            if line.strip() == "":
                out.append("")
                self.pos += 1
                continue
            ind = len(line) - len(line.lstrip())
            if ind <= key_indent:
                break
            if block_indent is None:
                block_indent = ind
            if ind < block_indent:
                raise YamlError(f"{self.where(self.pos)}: literal block line less indented than its first line")
            out.append(line[block_indent:])
            self.pos += 1
        while out and out[-1] == "":
            out.pop()
        text = "\n".join(out)
        return text + "\n" if (chomp_keep_newline and text) else text

    def value_after_key(self, key_indent, rest, where):
        if rest in ("|", "|-"):
            return self.block_literal(key_indent, rest == "|")
        if rest.startswith(("|", ">")):
            raise YamlError(f"{where}: unsupported block scalar {rest!r}")
        self.pos += 1
        if rest:
            return _scalar(rest, where)
        nxt = self.peek()
        if nxt is None:
            return None
        if nxt[0] > key_indent:
            return self.node(nxt[0])
        if nxt[0] == key_indent and (nxt[1] == "-" or nxt[1].startswith("- ")):
            return self.sequence(key_indent)
        return None

    def mapping(self, indent):
        out = {}
        while True:
            nxt = self.peek()
            if nxt is None or nxt[0] < indent:
                return out
            where = self.where(self.pos)
            if nxt[0] > indent:
                raise YamlError(f"{where}: unexpected indentation")
            if nxt[1] == "-" or nxt[1].startswith("- "):
                return out  # a sequence at the parent key's indentation ends this mapping
            kv = _split_key(nxt[1])
            if kv is None:
                raise YamlError(f"{where}: expected 'key: value', got {nxt[1]!r}")
            key, rest = kv
            self.virtual.pop(self.pos, None)
            if key in out:
                raise YamlError(f"{where}: duplicate key {key!r}")
            out[key] = self.value_after_key(indent, rest, where)

    def sequence(self, indent):
        out = []
        while True:
            nxt = self.peek()
            if nxt is None or nxt[0] < indent:
                return out
            where = self.where(self.pos)
            if nxt[0] > indent:
                raise YamlError(f"{where}: unexpected indentation in a sequence")
            if not (nxt[1] == "-" or nxt[1].startswith("- ")):
                return out
            item = nxt[1][1:].lstrip()
            col = nxt[0] + (len(nxt[1]) - len(item))
            if not item:
                self.virtual.pop(self.pos, None)
                self.pos += 1
                out.append(self.node(indent + 1))
            elif _split_key(item) is not None and not item.startswith("["):
                self.virtual[self.pos] = (col, item)
                out.append(self.mapping(col))
            elif item.startswith("- "):
                raise YamlError(f"{where}: nested sequences on one line are not supported")
            else:
                self.virtual.pop(self.pos, None)
                self.pos += 1
                out.append(_scalar(item, where))


def load_all(text, name="<yaml>"):
    """Every document of a multi-document YAML text (empty documents dropped)."""
    docs, chunk, start = [], [], 1
    lines = text.split("\n")
    for i, line in enumerate(lines + ["---"]):
        if line.rstrip() == "---" or line.startswith("--- "):
            if line.startswith("--- ") and line[4:].strip() and not line[4:].strip().startswith("#"):
                raise YamlError(f"{name}:{i + 1}: content after '---' is not supported")
            reader = _Reader(chunk, name, start)
            value = reader.node(0)
            if reader.peek() is not None:
                raise YamlError(f"{reader.where(reader.pos)}: could not parse this line")
            if value is not None:
                docs.append(value)
            chunk, start = [], i + 2
        else:
            chunk.append(line)
    return docs
