"""The link's vocabulary: what a gateway (mud/edge) and the engine (mud/core) say to each other.

Both processes import this package and nothing of each other. See `messages` for every
message and output item, `caps` for what a client can do, `codec` for how a batch of
messages becomes the bytes of one link payload (msgspec, msgpack).
"""

from mud.protocol.caps import ClientCaps, wants_package
from mud.protocol.messages import (
    VERSION,
    Abort,
    Attached,
    Beat,
    Bind,
    Caps,
    Close,
    Connect,
    ConnState,
    Echo,
    Event,
    GatewayInfo,
    Gmcp,
    Go,
    Got,
    Hello,
    Item,
    Line,
    Message,
    Mssp,
    MsspAsk,
    Oob,
    Output,
    Prompt,
    Reload,
    Reloading,
    ResumeOk,
    Stop,
    Text,
    Welcome,
    Who,
)

__all__ = [
    "VERSION", "Abort", "Attached", "Beat", "Bind", "Caps", "ClientCaps", "Close", "ConnState",
    "Connect", "Echo", "Event", "GatewayInfo", "Gmcp", "Go", "Got", "Hello", "Item", "Line",
    "Message", "Mssp", "MsspAsk", "Oob", "Output", "Prompt", "Reload", "Reloading", "ResumeOk",
    "Stop", "Text", "Welcome", "Who", "wants_package",
]  # fmt: skip
