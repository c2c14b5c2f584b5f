// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";

interface IBravoTimelock {
    function delay() external view returns (uint256);
    function GRACE_PERIOD() external view returns (uint256);
    function acceptAdmin() external;
    function queuedTransactions(bytes32 hash) external view returns (bool);
    function queueTransaction(address target, uint256 value, string calldata signature, bytes calldata data, uint256 eta)
        external
        returns (bytes32);
    function cancelTransaction(address target, uint256 value, string calldata signature, bytes calldata data, uint256 eta)
        external;
    function executeTransaction(address target, uint256 value, string calldata signature, bytes calldata data, uint256 eta)
        external
        payable
        returns (bytes memory);
}

/// @notice A small, self-contained governor with Compound GovernorBravo's public interface
/// (events, propose/castVote/queue/execute/cancel, state, proposals, getReceipt, getActions,
/// quorumVotes, votingDelay, votingPeriod), written from that interface, not Compound's code.
/// Voting power comes from any IVotes token with a block-number clock (getPastVotes plays the
/// role of Comp's getPriorVotes). Actions run through a Compound-style timelock (BravoTimelock),
/// which is also this governor's admin for the parameter setters.
/// Differences kept on purpose: quorum is a constructor parameter, there is no whitelist,
/// no vote-by-signature, a proposer may have several live proposals (tests and benchmarks
/// create many), and actions' ETH values are paid from the timelock's balance.
contract BravoGovernor {
    string public constant name = "Steward Bravo Governor";
    uint256 public constant PROPOSAL_MAX_OPERATIONS = 10;

    struct Proposal {
        uint256 id;
        address proposer;
        uint256 eta;
        address[] targets;
        uint256[] values;
        string[] signatures;
        bytes[] calldatas;
        uint256 startBlock;
        uint256 endBlock;
        uint256 forVotes;
        uint256 againstVotes;
        uint256 abstainVotes;
        bool canceled;
        bool executed;
        mapping(address => Receipt) receipts;
    }

    struct Receipt {
        bool hasVoted;
        uint8 support;
        uint96 votes;
    }

    enum ProposalState {
        Pending,
        Active,
        Canceled,
        Defeated,
        Succeeded,
        Queued,
        Expired,
        Executed
    }

    IBravoTimelock public immutable timelock;
    IVotes public immutable comp;
    uint256 public immutable quorumVotes;
    uint256 public constant initialProposalId = 0;

    uint256 public votingDelay;
    uint256 public votingPeriod;
    uint256 public proposalThreshold;
    uint256 public proposalCount;
    mapping(address => uint256) public latestProposalIds;
    mapping(uint256 => Proposal) internal _proposals;

    event ProposalCreated(
        uint256 id,
        address proposer,
        address[] targets,
        uint256[] values,
        string[] signatures,
        bytes[] calldatas,
        uint256 startBlock,
        uint256 endBlock,
        string description
    );
    event VoteCast(address indexed voter, uint256 proposalId, uint8 support, uint256 votes, string reason);
    event ProposalCanceled(uint256 id);
    event ProposalQueued(uint256 id, uint256 eta);
    event ProposalExecuted(uint256 id);
    event VotingDelaySet(uint256 oldVotingDelay, uint256 newVotingDelay);
    event VotingPeriodSet(uint256 oldVotingPeriod, uint256 newVotingPeriod);
    event ProposalThresholdSet(uint256 oldProposalThreshold, uint256 newProposalThreshold);

    constructor(
        address timelock_,
        address comp_,
        uint256 votingPeriod_,
        uint256 votingDelay_,
        uint256 proposalThreshold_,
        uint256 quorumVotes_
    ) {
        require(timelock_ != address(0) && comp_ != address(0), "GovernorBravo::constructor: zero address");
        require(votingPeriod_ > 0, "GovernorBravo::constructor: invalid voting period");
        timelock = IBravoTimelock(timelock_);
        comp = IVotes(comp_);
        votingPeriod = votingPeriod_;
        votingDelay = votingDelay_;
        proposalThreshold = proposalThreshold_;
        quorumVotes = quorumVotes_;
    }

    /// The timelock is the admin: parameter changes go through proposals.
    function admin() public view returns (address) {
        return address(timelock);
    }

    function propose(
        address[] memory targets,
        uint256[] memory values,
        string[] memory signatures,
        bytes[] memory calldatas,
        string memory description
    ) public returns (uint256) {
        require(
            comp.getPastVotes(msg.sender, block.number - 1) > proposalThreshold,
            "GovernorBravo::propose: proposer votes below proposal threshold"
        );
        require(
            targets.length == values.length && targets.length == signatures.length
                && targets.length == calldatas.length,
            "GovernorBravo::propose: proposal function information arity mismatch"
        );
        require(targets.length != 0, "GovernorBravo::propose: must provide actions");
        require(targets.length <= PROPOSAL_MAX_OPERATIONS, "GovernorBravo::propose: too many actions");

        uint256 startBlock = block.number + votingDelay;
        uint256 endBlock = startBlock + votingPeriod;

        uint256 id = ++proposalCount;
        Proposal storage p = _proposals[id];
        p.id = id;
        p.proposer = msg.sender;
        p.targets = targets;
        p.values = values;
        p.signatures = signatures;
        p.calldatas = calldatas;
        p.startBlock = startBlock;
        p.endBlock = endBlock;
        latestProposalIds[msg.sender] = id;

        emit ProposalCreated(id, msg.sender, targets, values, signatures, calldatas, startBlock, endBlock, description);
        return id;
    }

    function queue(uint256 proposalId) external {
        require(
            state(proposalId) == ProposalState.Succeeded,
            "GovernorBravo::queue: proposal can only be queued if it is succeeded"
        );
        Proposal storage p = _proposals[proposalId];
        uint256 eta = block.timestamp + timelock.delay();
        for (uint256 i = 0; i < p.targets.length; i++) {
            require(
                !timelock.queuedTransactions(
                    keccak256(abi.encode(p.targets[i], p.values[i], p.signatures[i], p.calldatas[i], eta))
                ),
                "GovernorBravo::queue: identical proposal action already queued at eta"
            );
            timelock.queueTransaction(p.targets[i], p.values[i], p.signatures[i], p.calldatas[i], eta);
        }
        p.eta = eta;
        emit ProposalQueued(proposalId, eta);
    }

    function execute(uint256 proposalId) external payable {
        require(
            state(proposalId) == ProposalState.Queued,
            "GovernorBravo::execute: proposal can only be executed if it is queued"
        );
        Proposal storage p = _proposals[proposalId];
        p.executed = true;
        // ETH sent with the call tops up the timelock; actions' values are paid from the
        // timelock's balance (the treasury), so executing needs no msg.value.
        if (msg.value > 0) {
            (bool ok,) = address(timelock).call{value: msg.value}("");
            require(ok, "GovernorBravo::execute: forwarding ETH failed");
        }
        for (uint256 i = 0; i < p.targets.length; i++) {
            timelock.executeTransaction(p.targets[i], p.values[i], p.signatures[i], p.calldatas[i], p.eta);
        }
        emit ProposalExecuted(proposalId);
    }

    function cancel(uint256 proposalId) external {
        require(state(proposalId) != ProposalState.Executed, "GovernorBravo::cancel: cannot cancel executed proposal");
        Proposal storage p = _proposals[proposalId];
        require(
            msg.sender == p.proposer || comp.getPastVotes(p.proposer, block.number - 1) < proposalThreshold,
            "GovernorBravo::cancel: proposer above threshold"
        );
        p.canceled = true;
        if (p.eta != 0) {
            for (uint256 i = 0; i < p.targets.length; i++) {
                timelock.cancelTransaction(p.targets[i], p.values[i], p.signatures[i], p.calldatas[i], p.eta);
            }
        }
        emit ProposalCanceled(proposalId);
    }

    function castVote(uint256 proposalId, uint8 support) external {
        emit VoteCast(msg.sender, proposalId, support, _castVote(msg.sender, proposalId, support), "");
    }

    function castVoteWithReason(uint256 proposalId, uint8 support, string calldata reason) external {
        emit VoteCast(msg.sender, proposalId, support, _castVote(msg.sender, proposalId, support), reason);
    }

    function _castVote(address voter, uint256 proposalId, uint8 support) internal returns (uint96) {
        require(state(proposalId) == ProposalState.Active, "GovernorBravo::castVoteInternal: voting is closed");
        require(support <= 2, "GovernorBravo::castVoteInternal: invalid vote type");
        Proposal storage p = _proposals[proposalId];
        Receipt storage receipt = p.receipts[voter];
        require(!receipt.hasVoted, "GovernorBravo::castVoteInternal: voter already voted");
        uint96 votes = uint96(comp.getPastVotes(voter, p.startBlock));

        if (support == 0) {
            p.againstVotes += votes;
        } else if (support == 1) {
            p.forVotes += votes;
        } else {
            p.abstainVotes += votes;
        }
        receipt.hasVoted = true;
        receipt.support = support;
        receipt.votes = votes;
        return votes;
    }

    function state(uint256 proposalId) public view returns (ProposalState) {
        require(
            proposalCount >= proposalId && proposalId > initialProposalId, "GovernorBravo::state: invalid proposal id"
        );
        Proposal storage p = _proposals[proposalId];
        if (p.canceled) {
            return ProposalState.Canceled;
        } else if (block.number <= p.startBlock) {
            return ProposalState.Pending;
        } else if (block.number <= p.endBlock) {
            return ProposalState.Active;
        } else if (p.forVotes <= p.againstVotes || p.forVotes < quorumVotes) {
            return ProposalState.Defeated;
        } else if (p.eta == 0) {
            return ProposalState.Succeeded;
        } else if (p.executed) {
            return ProposalState.Executed;
        } else if (block.timestamp >= p.eta + timelock.GRACE_PERIOD()) {
            return ProposalState.Expired;
        } else {
            return ProposalState.Queued;
        }
    }

    function proposals(uint256 proposalId)
        external
        view
        returns (
            uint256 id,
            address proposer,
            uint256 eta,
            uint256 startBlock,
            uint256 endBlock,
            uint256 forVotes,
            uint256 againstVotes,
            uint256 abstainVotes,
            bool canceled,
            bool executed
        )
    {
        Proposal storage p = _proposals[proposalId];
        return (
            p.id,
            p.proposer,
            p.eta,
            p.startBlock,
            p.endBlock,
            p.forVotes,
            p.againstVotes,
            p.abstainVotes,
            p.canceled,
            p.executed
        );
    }

    function getActions(uint256 proposalId)
        external
        view
        returns (address[] memory targets, uint256[] memory values, string[] memory signatures, bytes[] memory calldatas)
    {
        Proposal storage p = _proposals[proposalId];
        return (p.targets, p.values, p.signatures, p.calldatas);
    }

    function getReceipt(uint256 proposalId, address voter) external view returns (Receipt memory) {
        return _proposals[proposalId].receipts[voter];
    }

    function _acceptAdmin() external {
        timelock.acceptAdmin();
    }

    function _setVotingDelay(uint256 newVotingDelay) external {
        require(msg.sender == admin(), "GovernorBravo::_setVotingDelay: admin only");
        emit VotingDelaySet(votingDelay, newVotingDelay);
        votingDelay = newVotingDelay;
    }

    function _setVotingPeriod(uint256 newVotingPeriod) external {
        require(msg.sender == admin(), "GovernorBravo::_setVotingPeriod: admin only");
        require(newVotingPeriod > 0, "GovernorBravo::_setVotingPeriod: invalid voting period");
        emit VotingPeriodSet(votingPeriod, newVotingPeriod);
        votingPeriod = newVotingPeriod;
    }

    function _setProposalThreshold(uint256 newProposalThreshold) external {
        require(msg.sender == admin(), "GovernorBravo::_setProposalThreshold: admin only");
        emit ProposalThresholdSet(proposalThreshold, newProposalThreshold);
        proposalThreshold = newProposalThreshold;
    }
}
