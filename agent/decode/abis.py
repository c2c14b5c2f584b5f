"""Functions whose meaning Steward knows: parameter names, and a `kind` the handlers act on.

ERC-20 and ERC-721 share `transferFrom` and `approve` selectors; they are one entry
here and the token handlers tell them apart by whether the token has decimals.
Written as Solidity-like text so a reader can check them against the contracts.
"""

from __future__ import annotations

KNOWN_FUNCTIONS: tuple[tuple[str, str], ...] = (
    # ERC-20 (and ERC-721 where the selector is shared)
    ("token.transfer", "transfer(address to, uint256 amount)"),
    ("token.transferFrom", "transferFrom(address from, address to, uint256 amount)"),
    ("token.approve", "approve(address spender, uint256 amount)"),
    ("token.increaseAllowance", "increaseAllowance(address spender, uint256 addedValue)"),
    ("token.decreaseAllowance", "decreaseAllowance(address spender, uint256 subtractedValue)"),
    ("token.mint", "mint(address to, uint256 amount)"),
    ("token.burn", "burn(uint256 amount)"),
    ("token.burnFrom", "burnFrom(address account, uint256 amount)"),
    ("nft.transfer", "safeTransferFrom(address from, address to, uint256 tokenId)"),
    ("nft.transfer", "safeTransferFrom(address from, address to, uint256 tokenId, bytes data)"),
    ("approvalForAll", "setApprovalForAll(address operator, bool approved)"),
    # the project's Treasury and UpgradeableBox (contracts/src)
    ("treasury.release", "release(address token, address to, uint256 amount)"),
    ("treasury.releaseETH", "releaseETH(address to, uint256 amount)"),
    ("ownership.initialize", "initialize(address owner_, uint256 value_)"),
    ("plain", "store(uint256 value_)"),
    ("plain", "increment()"),
    # OpenZeppelin Governor (5.x uses uint48/uint32, 4.x uint256)
    ("gov.votingDelay", "setVotingDelay(uint48 newVotingDelay)"),
    ("gov.votingDelay", "setVotingDelay(uint256 newVotingDelay)"),
    ("gov.votingPeriod", "setVotingPeriod(uint32 newVotingPeriod)"),
    ("gov.votingPeriod", "setVotingPeriod(uint256 newVotingPeriod)"),
    ("gov.threshold", "setProposalThreshold(uint256 newProposalThreshold)"),
    ("gov.quorum", "updateQuorumNumerator(uint256 newQuorumNumerator)"),
    ("gov.timelock", "updateTimelock(address newTimelock)"),
    ("gov.lateQuorum", "setLateQuorumVoteExtension(uint48 newVoteExtension)"),
    ("gov.lateQuorum", "setLateQuorumVoteExtension(uint64 newVoteExtension)"),
    ("call.relay", "relay(address target, uint256 value, bytes data)"),
    # Compound GovernorBravo admin
    ("gov.votingDelay", "_setVotingDelay(uint256 newVotingDelay)"),
    ("gov.votingPeriod", "_setVotingPeriod(uint256 newVotingPeriod)"),
    ("gov.threshold", "_setProposalThreshold(uint256 newProposalThreshold)"),
    ("ownership.pendingAdmin", "_setPendingAdmin(address newPendingAdmin)"),
    ("ownership.accept", "_acceptAdmin()"),
    ("role.guardian", "_setWhitelistGuardian(address account)"),
    ("role.whitelist", "_setWhitelistAccountExpiration(address account, uint256 expiration)"),
    ("upgrade.implementation", "_setImplementation(address implementation_)"),
    # OpenZeppelin TimelockController
    (
        "call.schedule",
        "schedule(address target, uint256 value, bytes data, bytes32 predecessor, bytes32 salt, "
        "uint256 delay)",
    ),
    (
        "call.scheduleBatch",
        "scheduleBatch(address[] targets, uint256[] values, bytes[] payloads, "
        "bytes32 predecessor, bytes32 salt, uint256 delay)",
    ),
    (
        "call.execute",
        "execute(address target, uint256 value, bytes payload, bytes32 predecessor, bytes32 salt)",
    ),
    (
        "call.executeBatch",
        "executeBatch(address[] targets, uint256[] values, bytes[] payloads, "
        "bytes32 predecessor, bytes32 salt)",
    ),
    ("timelock.cancel", "cancel(bytes32 id)"),
    ("timelock.delay", "updateDelay(uint256 newDelay)"),
    # Compound Timelock
    ("timelock.delay", "setDelay(uint256 delay_)"),
    ("ownership.pendingAdmin", "setPendingAdmin(address pendingAdmin_)"),
    ("ownership.accept", "acceptAdmin()"),
    (
        "call.queueTransaction",
        "queueTransaction(address target, uint256 value, string signature, bytes data, "
        "uint256 eta)",
    ),
    (
        "call.executeTransaction",
        "executeTransaction(address target, uint256 value, string signature, bytes data, "
        "uint256 eta)",
    ),
    (
        "timelock.cancelTransaction",
        "cancelTransaction(address target, uint256 value, string signature, bytes data, "
        "uint256 eta)",
    ),
    # proxies: UUPS / ERC-1967 / beacon, TransparentUpgradeableProxy, ProxyAdmin
    ("upgrade.to", "upgradeTo(address newImplementation)"),
    ("upgrade.toAndCall", "upgradeToAndCall(address newImplementation, bytes data)"),
    ("ownership.proxyAdmin", "changeAdmin(address newAdmin)"),
    ("upgrade.proxyAdmin", "upgrade(address proxy, address implementation)"),
    (
        "upgrade.proxyAdminAndCall",
        "upgradeAndCall(address proxy, address implementation, bytes data)",
    ),
    ("ownership.changeProxyAdmin", "changeProxyAdmin(address proxy, address newAdmin)"),
    # AccessControl and Ownable
    ("role.grant", "grantRole(bytes32 role, address account)"),
    ("role.revoke", "revokeRole(bytes32 role, address account)"),
    ("role.renounce", "renounceRole(bytes32 role, address callerConfirmation)"),
    ("ownership.transfer", "transferOwnership(address newOwner)"),
    ("ownership.renounce", "renounceOwnership()"),
    ("ownership.accept", "acceptOwnership()"),
    # ENS registry
    ("ens.setOwner", "setOwner(bytes32 node, address owner)"),
    ("ens.setSubnodeOwner", "setSubnodeOwner(bytes32 node, bytes32 label, address owner)"),
    ("ens.setResolver", "setResolver(bytes32 node, address resolver)"),
    ("plain", "setTTL(bytes32 node, uint64 ttl)"),
    ("ens.setRecord", "setRecord(bytes32 node, address owner, address resolver, uint64 ttl)"),
    (
        "ens.setSubnodeRecord",
        "setSubnodeRecord(bytes32 node, bytes32 label, address owner, address resolver, "
        "uint64 ttl)",
    ),
    # ENS public resolver
    ("ens.setAddr", "setAddr(bytes32 node, address a)"),
    ("ens.setAddr", "setAddr(bytes32 node, uint256 coinType, bytes a)"),
    ("ens.setText", "setText(bytes32 node, string key, string value)"),
    ("ens.record", "setContenthash(bytes32 node, bytes hash)"),
    ("ens.record", "setABI(bytes32 node, uint256 contentType, bytes data)"),
    ("ens.setName", "setName(bytes32 node, string newName)"),
    ("ens.record", "setPubkey(bytes32 node, bytes32 x, bytes32 y)"),
    ("ens.record", "setInterface(bytes32 node, bytes4 interfaceID, address implementer)"),
    ("call.multicall", "multicall(bytes[] data)"),
    ("call.multicall", "multicallWithNodeCheck(bytes32 nodehash, bytes[] data)"),
    # ENS root, registrar, controller, name wrapper
    ("ens.rootSubnodeOwner", "setSubnodeOwner(bytes32 label, address owner)"),
    ("role.controller", "setController(address controller, bool enabled)"),
    ("plain", "setLocked(bytes32 label)"),
    ("role.addController", "addController(address controller)"),
    ("role.removeController", "removeController(address controller)"),
    ("plain", "setResolver(address resolver)"),
    ("plain", "withdraw()"),
    ("effect.oracle_change", "setPriceOracle(address _prices)"),
    ("plain", "setCommitmentAges(uint256 _minCommitmentAge, uint256 _maxCommitmentAge)"),
    ("treasury.recover", "recoverFunds(address token, address to, uint256 amount)"),
    ("upgrade.contract", "setUpgradeContract(address _upgradeAddress)"),
    # Safe multisig administration
    ("safe.addOwner", "addOwnerWithThreshold(address owner, uint256 _threshold)"),
    ("safe.removeOwner", "removeOwner(address prevOwner, address owner, uint256 _threshold)"),
    ("safe.swapOwner", "swapOwner(address prevOwner, address oldOwner, address newOwner)"),
    ("safe.threshold", "changeThreshold(uint256 _threshold)"),
    ("role.enableModule", "enableModule(address module)"),
    ("role.disableModule", "disableModule(address prevModule, address module)"),
    ("role.guard", "setGuard(address guard)"),
)
"""(kind, signature with parameter names). `plain`: named, nothing to flag."""
