// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";

/// @notice UUPS implementation to put behind an OZ ERC1967Proxy. The owner (the timelock)
/// upgrades it with `upgradeToAndCall(newImplementation, data)` through a proposal.
contract UpgradeableBox is Initializable, UUPSUpgradeable {
    /// @custom:storage-location erc7201:steward.storage.UpgradeableBox
    struct BoxStorage {
        address owner;
        uint256 value;
    }

    // keccak256(abi.encode(uint256(keccak256("steward.storage.UpgradeableBox")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant BOX_STORAGE = 0xbfc9f290a759d9712fb98dbd5e7a026e0f78c17d849ddda74935b99539100200;

    event ValueChanged(uint256 value);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error NotOwner(address account);
    error ZeroOwner();

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    function initialize(address owner_, uint256 value_) external initializer {
        if (owner_ == address(0)) revert ZeroOwner();
        _box().owner = owner_;
        _box().value = value_;
        emit OwnershipTransferred(address(0), owner_);
    }

    modifier onlyOwner() {
        if (msg.sender != _box().owner) revert NotOwner(msg.sender);
        _;
    }

    function owner() external view returns (address) {
        return _box().owner;
    }

    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroOwner();
        emit OwnershipTransferred(_box().owner, newOwner);
        _box().owner = newOwner;
    }

    function store(uint256 value_) external onlyOwner {
        _box().value = value_;
        emit ValueChanged(value_);
    }

    function retrieve() external view returns (uint256) {
        return _box().value;
    }

    function version() external pure virtual returns (uint256) {
        return 1;
    }

    function _authorizeUpgrade(address) internal view override onlyOwner {}

    function _box() internal pure returns (BoxStorage storage $) {
        assembly {
            $.slot := BOX_STORAGE
        }
    }
}

/// @notice Second implementation for upgrade proposals: same storage, adds `increment`.
contract UpgradeableBoxV2 is UpgradeableBox {
    function increment() external onlyOwner {
        BoxStorage storage $ = _box();
        $.value += 1;
        emit ValueChanged($.value);
    }

    function version() external pure override returns (uint256) {
        return 2;
    }
}
