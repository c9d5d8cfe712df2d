"""Every message of the gateway/engine link, one class each, and the items of output.

Each message is a msgspec `Struct` encoded as a msgpack array whose first element is its tag
(`array_like`, short tags: the link carries tens of thousands a second). The Link batches
everything posted in one loop iteration into one payload (mud/link/frames.py); a batch with a
message this side does not know is refused whole, the tag logged (mud/protocol/codec.py).

up (gateway -> engine)
  Hello      first on every (re)connect: the protocol VERSION (an engine refuses another one),
             the gateway's name and info, and one `Attached` per connection it holds
  Connect    a new connection (not yet negotiated), with what its client can do so far
  Go         negotiation over: greet it
  Caps       the client told us more (TTYPE, CHARSET, NAWS, GMCP packages; a resumed page's
             new address)
  Line       one input line (bytes, without its end of line)
  Gmcp       a GMCP message the engine acts on (the edge answers Core.Hello/Supports/Ping
             itself and reports the packages in Caps, sent before)
  Event      "flood", "overflow" (the telnet layer cut it off) or "gone"; "throttled" (lines
             dropped), "long" (a line over the limit: its size); "resumed" (a web page came
             back, its address in the Caps before)
  MsspAsk    the client asked for MSSP
  Reloading  the answer to Reload: no more input until the next Hello
down (engine -> gateway)
  Welcome    the answer to Hello: the MSSP table and this engine's id (a gateway whose
             engine was only hung sends nothing again)
  Got        session sids[i] has had counts[i] input lines: the gateway stops keeping them
             (the rest go to the next engine)
  Output     output: session sids[i] gets outs[which[i]] (a sequence of items; one output
             sent once however many sessions get it, e.g. a room's lines for a crowd) and has
             finished dones[i] input lines
  ResumeOk   a resumed page may have what it missed (no address ban)
  Bind       the dreamer this connection plays (None: login screen)
  Close / Abort  close after the output / drop at once
  Mssp       the MSSP table, for that client
  Who        say hello first (a new engine heard us mid-conversation)
  Reload     the engine goes away for a reload: keep input until back
  Stop       the server stops: close every connection and exit
both
  Beat       the heartbeat of a quiet link (never handed to its owner)

Output items carry no protocol bytes: `Text` (rendered, encoded in the connection's charset),
`Prompt` (the edge adds IAC GA / IAC EOR as negotiated), `Echo` (the edge says WILL/WONT
ECHO, or tells the page), `Oob` (GMCP: IAC SB GMCP ... IAC SE on telnet, a TEXT frame in the
browser). Doubling IAC bytes is the telnet edge's business.

Session ids are the gateway's own small integers; no client ever sees one or can send a link
message, and the engine keys them by the link they came on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from mud.protocol.caps import ClientCaps

VERSION = 1  # said in Hello; an engine refuses a gateway that speaks another


class Msg(msgspec.Struct, array_like=True, gc=False):
    """A link message (encoded as [tag, field, ...]). Not tracked by the garbage collector
    (`gc=False`: a message holds bytes, numbers, strings and lists of those, never itself),
    so the thousands made a second don't bring the young-generation collections sooner."""


# -- output items ---------------------------------------------------------------------------
class Text(Msg, tag="t"):
    data: bytes  # rendered text, encoded in the connection's charset


class Prompt(Msg, tag="p"):
    data: bytes  # the prompt as text (the edge marks it as a prompt its own way)


class Echo(Msg, tag="e"):
    off: bool  # True: the client stops echoing (a password prompt)


class Oob(Msg, tag="o"):
    package: str
    data: str = ""  # its JSON text ("": none)


Item = Text | Prompt | Echo | Oob


# -- up -------------------------------------------------------------------------------------
class GatewayInfo(msgspec.Struct, array_like=True):
    port: int = 0
    listening: str = ""
    reason: str = "start"  # why this hello: "start", "crash" or "reload"
    pid: int = 0


class ConnState(msgspec.Struct, array_like=True):
    started: bool = False  # negotiation over
    greeted: bool = False  # an engine has had its Go (showed the banner)
    player: str | None = None  # the dreamer it plays, as the last engine said
    resumed: bool = False  # a page came back while no engine heard


class Attached(msgspec.Struct, array_like=True):
    sid: int
    address: str
    port: int
    caps: ClientCaps
    state: ConnState


class Hello(Msg, tag="hello"):
    version: int
    name: str
    info: GatewayInfo
    attached: list[Attached]


class Connect(Msg, tag="c"):
    sid: int
    address: str
    port: int
    caps: ClientCaps


class Go(Msg, tag="go"):
    sid: int
    caps: ClientCaps


class Caps(Msg, tag="f"):
    sid: int
    caps: ClientCaps
    address: str
    port: int


class Line(Msg, tag="in"):
    sid: int
    line: bytes


class Gmcp(Msg, tag="gmcp"):
    sid: int
    package: str
    data: Any = None  # JSON from the client: really arbitrary


class Event(Msg, tag="ev"):
    sid: int
    what: str
    size: int = 0  # "long": the refused line's size


class MsspAsk(Msg, tag="mssp?"):
    sid: int


class Reloading(Msg, tag="reloading"):
    pass


# -- down -----------------------------------------------------------------------------------
class Welcome(Msg, tag="welcome"):
    engine: str
    mssp: dict[str, str | list[str]]


class Got(Msg, tag="got"):
    sids: list[int]
    counts: list[int]


class Output(Msg, tag="O"):
    sids: list[int]
    which: list[int]
    dones: list[int]
    outs: list[Sequence[Item]]


class ResumeOk(Msg, tag="resume_ok"):
    sid: int


class Bind(Msg, tag="bind"):
    sid: int
    player: str | None


class Close(Msg, tag="close"):
    sid: int


class Abort(Msg, tag="abort"):
    sid: int


class Mssp(Msg, tag="mssp"):
    table: dict[str, str | list[str]]
    sid: int


class Who(Msg, tag="who"):
    pass


class Reload(Msg, tag="reload"):
    pass


class Stop(Msg, tag="stop"):
    pass


class Beat(Msg, tag="beat"):
    pass


Message = (
    Hello | Connect | Go | Caps | Line | Gmcp | Event | MsspAsk | Reloading
    | Welcome | Got | Output | ResumeOk | Bind | Close | Abort | Mssp | Who | Reload | Stop
    | Beat
)  # fmt: skip
TAGS = frozenset(
    str(cls.__struct_config__.tag)
    for cls in (Hello, Connect, Go, Caps, Line, Gmcp, Event, MsspAsk, Reloading, Welcome, Got,
                Output, ResumeOk, Bind, Close, Abort, Mssp, Who, Reload, Stop, Beat)
)  # fmt: skip
