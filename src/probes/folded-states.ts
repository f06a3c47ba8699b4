// The probe folds the transitions no attribution needs into a per-socket
// bitmask (bit n set: the socket passed through kernel TCP state n) and prints
// the mask on the line that first names a socket (connect, accept, or its
// first printed transition). This turns that line back into the opening the
// stitcher understands: a CLOSE→SYN_SENT (dialer) or LISTEN→SYN_RECV (accepted
// child) birth, then on to the state the line finds the socket in.

export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_CLOSE = 7;
export const TCP_LISTEN = 10;

/** A socket's state mask has state n. */
export function hasState(bits: number, state: number): boolean {
  return state >= 0 && state < 31 && (bits & (1 << state)) !== 0;
}

/**
 * The states a socket announced in state `now` went through, in order, from
 * the one it was born from; [] when the mask shows no birth (a listener, or a
 * socket that was open before the probe started: nothing was folded). The
 * middle is ESTABLISHED when the mask has it: what else lay between is not
 * recoverable and no attribution reads it. The arrays are shared and frozen:
 * a few dozen distinct chains cover every socket.
 */
export function openingChain(bits: number, now: number): readonly number[] {
  let born: number;
  if (hasState(bits, TCP_SYN_SENT)) born = TCP_SYN_SENT;
  else if (hasState(bits, TCP_SYN_RECV)) born = TCP_SYN_RECV;
  else return NO_CHAIN;
  const viaEst = now !== born && now !== TCP_ESTABLISHED && hasState(bits, TCP_ESTABLISHED);
  const key = now * 4 + (born === TCP_SYN_SENT ? 0 : 2) + (viaEst ? 1 : 0);
  let chain = chains.get(key);
  if (chain === undefined) {
    const c = born === TCP_SYN_SENT ? [TCP_CLOSE, TCP_SYN_SENT] : [TCP_LISTEN, TCP_SYN_RECV];
    if (now !== born) {
      if (viaEst) c.push(TCP_ESTABLISHED);
      c.push(now);
    }
    chain = Object.freeze(c);
    // Bounded: `now` comes from the line, and a hostile one could name any number.
    if (chains.size < 1024) chains.set(key, chain);
  }
  return chain;
}

const NO_CHAIN: readonly number[] = Object.freeze([]);
const chains = new Map<number, readonly number[]>();
