/**
 * What a peer sent is not a message of ours (a bad shape, a value out of range): thrown by the
 * checks on a receive path and caught there only, where it is counted and reported as the peer's
 * error. Anything else thrown on a receive path is a bug of ours and surfaces, never blamed on a
 * peer (`StateNode.handleMessage`, `Disseminator.handleMessage`).
 */
export class MalformedMessage extends Error {
  override name = 'MalformedMessage';
}
