"""On-chain governance: Governor contracts read over JSON-RPC with web3.

Import from the submodules (`connectors.chain.source`, `.rpc`): web3 is heavy,
and nothing here should load it before a chain command needs it.
"""
