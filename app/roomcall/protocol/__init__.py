"""Pure values shared by the room server and the client SDK: wire messages, error codes,
disconnect reasons, RoomTokens and Qiniu MAC signatures. Standard library only."""
