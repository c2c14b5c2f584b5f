// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @notice A plain ERC20 with configurable decimals (e.g. 6 for a USDC-like token) that a
/// timelock can hold, so proposals make real `transfer`/`approve` calls on it.
contract TreasuryToken is ERC20 {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_, address holder, uint256 supply)
        ERC20(name_, symbol_)
    {
        _decimals = decimals_;
        _mint(holder, supply);
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}

/// @notice A small treasury with access-control roles: the admin (the timelock) grants
/// SPENDER_ROLE, spenders release ERC20 tokens or ETH. Gives proposals role grants and outflows.
contract Treasury is AccessControl {
    using SafeERC20 for IERC20;

    bytes32 public constant SPENDER_ROLE = keccak256("SPENDER_ROLE");

    event Released(address indexed token, address indexed to, uint256 amount);
    event ReleasedETH(address indexed to, uint256 amount);

    error ETHTransferFailed();

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    receive() external payable {}

    function release(IERC20 token, address to, uint256 amount) external onlyRole(SPENDER_ROLE) {
        token.safeTransfer(to, amount);
        emit Released(address(token), to, amount);
    }

    function releaseETH(address payable to, uint256 amount) external onlyRole(SPENDER_ROLE) {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert ETHTransferFailed();
        emit ReleasedETH(to, amount);
    }
}
