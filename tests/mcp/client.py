"""Drives `airlock mcp` with the official MCP Python SDK (PyPI `mcp`), as an
agent front-end would: start it as a stdio server, initialize, list the
tools and call them. Prints one JSON object on stdout for the Rust tests
(runtime/tests/mcp_cli.rs) to check.

Usage: client.py AIRLOCK_BINARY [--concurrent] [CALL_JSON]... -- ARG...
  every argument after `--` is passed to the binary (e.g. `--home H mcp -w WS`);
  each CALL_JSON is {"name": TOOL, "arguments": {...}}; with `--concurrent`
  the calls are all sent at once (results still in the order given).
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


async def main() -> None:
    binary = sys.argv[1]
    split = sys.argv.index("--")
    concurrent = sys.argv[2] == "--concurrent"
    calls = [json.loads(c) for c in sys.argv[2 + int(concurrent) : split]]
    server = StdioServerParameters(command=binary, args=sys.argv[split + 1 :])
    out = {"tools": [], "calls": []}
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["server"] = init.server_info.name
            tools = await session.list_tools()
            out["tools"] = [t.model_dump(mode="json", by_alias=True) for t in tools.tools]
            if concurrent:
                results = await asyncio.gather(
                    *(session.call_tool(c["name"], c.get("arguments")) for c in calls)
                )
            else:
                results = [await session.call_tool(c["name"], c.get("arguments")) for c in calls]
            for result in results:
                out["calls"].append(result.model_dump(mode="json", by_alias=True))
    print(json.dumps(out))


asyncio.run(main())
