"""The decision for one arrival: custody verdict + risk + policy + capacity -> lane."""
