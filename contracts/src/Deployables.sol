// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// OpenZeppelin contracts deployed as they are. Importing them here makes build.mjs
// write their artifacts next to the project's own contracts.
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";
