// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Minimal timelock with Compound's Timelock interface (queueTransaction /
/// executeTransaction / cancelTransaction, `signature` + `data` calls, GRACE_PERIOD), written
/// from the public interface. Its admin is the BravoGovernor.
contract BravoTimelock {
    uint256 public constant GRACE_PERIOD = 14 days;
    uint256 public constant MINIMUM_DELAY = 0;
    uint256 public constant MAXIMUM_DELAY = 30 days;

    address public admin;
    address public pendingAdmin;
    uint256 public delay;
    mapping(bytes32 => bool) public queuedTransactions;

    event NewAdmin(address indexed newAdmin);
    event NewPendingAdmin(address indexed newPendingAdmin);
    event NewDelay(uint256 indexed newDelay);
    event CancelTransaction(
        bytes32 indexed txHash, address indexed target, uint256 value, string signature, bytes data, uint256 eta
    );
    event ExecuteTransaction(
        bytes32 indexed txHash, address indexed target, uint256 value, string signature, bytes data, uint256 eta
    );
    event QueueTransaction(
        bytes32 indexed txHash, address indexed target, uint256 value, string signature, bytes data, uint256 eta
    );

    constructor(address admin_, uint256 delay_) {
        require(delay_ <= MAXIMUM_DELAY, "Timelock: delay too long");
        admin = admin_;
        delay = delay_;
    }

    receive() external payable {}

    function setDelay(uint256 delay_) external {
        require(msg.sender == address(this), "Timelock: call must come from Timelock");
        require(delay_ <= MAXIMUM_DELAY, "Timelock: delay too long");
        delay = delay_;
        emit NewDelay(delay_);
    }

    function acceptAdmin() external {
        require(msg.sender == pendingAdmin, "Timelock: call must come from pendingAdmin");
        admin = msg.sender;
        pendingAdmin = address(0);
        emit NewAdmin(msg.sender);
    }

    /// The current admin (the deployer at first, to hand over to the governor) or the
    /// timelock itself (through a proposal) may name a pending admin.
    function setPendingAdmin(address pendingAdmin_) external {
        require(msg.sender == address(this) || msg.sender == admin, "Timelock: unauthorized");
        pendingAdmin = pendingAdmin_;
        emit NewPendingAdmin(pendingAdmin_);
    }

    function queueTransaction(address target, uint256 value, string memory signature, bytes memory data, uint256 eta)
        external
        returns (bytes32)
    {
        require(msg.sender == admin, "Timelock: call must come from admin");
        require(eta >= block.timestamp + delay, "Timelock: eta must satisfy delay");
        bytes32 txHash = keccak256(abi.encode(target, value, signature, data, eta));
        queuedTransactions[txHash] = true;
        emit QueueTransaction(txHash, target, value, signature, data, eta);
        return txHash;
    }

    function cancelTransaction(address target, uint256 value, string memory signature, bytes memory data, uint256 eta)
        external
    {
        require(msg.sender == admin, "Timelock: call must come from admin");
        bytes32 txHash = keccak256(abi.encode(target, value, signature, data, eta));
        queuedTransactions[txHash] = false;
        emit CancelTransaction(txHash, target, value, signature, data, eta);
    }

    function executeTransaction(
        address target,
        uint256 value,
        string memory signature,
        bytes memory data,
        uint256 eta
    ) external payable returns (bytes memory) {
        require(msg.sender == admin, "Timelock: call must come from admin");
        bytes32 txHash = keccak256(abi.encode(target, value, signature, data, eta));
        require(queuedTransactions[txHash], "Timelock: transaction not queued");
        require(block.timestamp >= eta, "Timelock: transaction not past timelock");
        require(block.timestamp <= eta + GRACE_PERIOD, "Timelock: transaction is stale");
        queuedTransactions[txHash] = false;

        bytes memory callData = bytes(signature).length == 0
            ? data
            : abi.encodePacked(bytes4(keccak256(bytes(signature))), data);
        (bool success, bytes memory returnData) = target.call{value: value}(callData);
        require(success, "Timelock: transaction execution reverted");

        emit ExecuteTransaction(txHash, target, value, signature, data, eta);
        return returnData;
    }
}
