// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A container that makes calls for its owner (the timelock), standing in for a Safe's
/// `execTransaction` in tests: a proposal that calls it hides what it really moves inside
/// `data`, and the funds it holds leave from its own address, not the timelock's.
contract Forwarder {
    address public immutable owner;

    error NotOwner(address account);

    constructor(address owner_) {
        owner = owner_;
    }

    receive() external payable {}

    function forward(address target, uint256 value, bytes calldata data) external payable returns (bytes memory) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        (bool ok, bytes memory ret) = target.call{value: value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }
}
