"""Functions of well-known protocols whose meaning needs their parameters by name.

Money that leaves (Compound's reserves and COMP grants, Aave's ecosystem reserve and
collector, Sablier and Superfluid streams), the upgrades of Compound and Comet, and
the containers real proposals wrap calls in (Safe, MultiSend, Aave's timelocks,
messages to L2s). Same shape as `abis.py`: (kind, signature with parameter names).
"""

from __future__ import annotations

PROTOCOL_FUNCTIONS: tuple[tuple[str, str], ...] = (
    # Compound: reserves leave a market for its admin; COMP leaves the Comptroller
    ("outflow.reduceReserves", "_reduceReserves(uint256 reduceAmount)"),
    ("outflow.grantComp", "_grantComp(address recipient, uint256 amount)"),
    # Compound upgrades: cToken delegators, the Unitroller, Comet's proxy admin
    (
        "upgrade.implementation",
        "_setImplementation(address implementation_, bool allowResign, "
        "bytes becomeImplementationData)",
    ),
    ("upgrade.implementation", "_setPendingImplementation(address newPendingImplementation)"),
    ("upgrade.become", "_become(address unitroller)"),
    ("upgrade.deployComet", "deployAndUpgradeTo(address configuratorProxy, address cometProxy)"),
    # Aave: the ecosystem reserve controller and the collector's controller
    ("outflow.reserveTransfer", "transfer(address token, address recipient, uint256 amount)"),
    ("outflow.reserveApprove", "approve(address token, address recipient, uint256 amount)"),
    (
        "outflow.collectorTransfer",
        "transfer(address collector, address token, address recipient, uint256 amount)",
    ),
    # streams: Sablier v1 (and Aave's collector, which copies it), Superfluid
    (
        "stream.create",
        "createStream(address recipient, uint256 deposit, address tokenAddress, "
        "uint256 startTime, uint256 stopTime)",
    ),
    ("stream.flowrate", "setFlowrate(address token, address receiver, int96 flowrate)"),
    # Safe and its MultiSend library
    (
        "container.safeExec",
        "execTransaction(address to, uint256 value, bytes data, uint8 operation, "
        "uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, "
        "address refundReceiver, bytes signatures)",
    ),
    (
        "container.safeModuleExec",
        "execTransactionFromModule(address to, uint256 value, bytes data, uint8 operation)",
    ),
    ("container.multiSend", "multiSend(bytes transactions)"),
    ("container.multiSend", "multiSendCallOnly(bytes transactions)"),
    # Aave governance v2: ArcTimelock and the L2 bridge executors queue Bravo-style batches
    (
        "container.aaveQueue",
        "queue(address[] targets, uint256[] values, string[] signatures, bytes[] calldatas, "
        "bool[] withDelegatecalls)",
    ),
    # messages to other chains
    (
        "bridge.retryable",
        "createRetryableTicket(address to, uint256 l2CallValue, uint256 maxSubmissionCost, "
        "address excessFeeRefundAddress, address callValueRefundAddress, uint256 gasLimit, "
        "uint256 maxFeePerGas, bytes data)",
    ),
    (
        "bridge.retryable",
        "unsafeCreateRetryableTicket(address to, uint256 l2CallValue, "
        "uint256 maxSubmissionCost, address excessFeeRefundAddress, "
        "address callValueRefundAddress, uint256 gasLimit, uint256 maxFeePerGas, bytes data)",
    ),
    ("bridge.opMessage", "sendMessage(address _target, bytes _message, uint32 _minGasLimit)"),
    ("bridge.fxMessage", "sendMessageToChild(address _receiver, bytes _data)"),
    ("bridge.toL1", "sendTxToL1(address destination, bytes data)"),
    (
        "bridge.zkSync",
        "requestL2Transaction(address contractL2, uint256 l2Value, bytes calldata, "
        "uint256 l2GasLimit, uint256 l2GasPerPubdataByteLimit, bytes[] factoryDeps, "
        "address refundRecipient)",
    ),
    ("bridge.gnosisAmb", "requireToPassMessage(address _contract, bytes _data, uint256 _gas)"),
    (
        "bridge.scroll",
        "sendMessage(address target, uint256 value, bytes message, uint256 gasLimit)",
    ),
    ("bridge.linea", "sendMessage(address _to, uint256 _fee, bytes _calldata)"),
    # executors that run a contract's code as their own: Arbitrum's UpgradeExecutor, DSProxy
    ("container.delegateExec", "execute(address upgrade, bytes upgradeCallData)"),
    ("container.executeCall", "executeCall(address target, bytes targetCallData)"),
    # a Zodiac Roles member's call through the Safe
    (
        "container.rolesExec",
        "execTransactionWithRole(address to, uint256 value, bytes data, uint8 operation, "
        "bytes32 roleKey, bool shouldRevert)",
    ),
)
"""(kind, signature with parameter names); the handlers are in money.py and containers.py."""
