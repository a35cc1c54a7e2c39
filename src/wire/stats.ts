import { WIRE_ERROR_REASONS, type WireErrorReason } from './result.js';

/**
 * Counters of what the wire layer accepted and rejected. One instance per node (pass it in
 * `PacketOptions.stats`); `wireStats` is the process-wide default.
 */
export class WireStats {
  packetsDecoded = 0;
  packetsRejected = 0;
  streamsDecoded = 0;
  streamsRejected = 0;
  /** Compound parts skipped (truncated or malformed) while the rest of the compound was kept, as Go does. */
  compoundPartsDropped = 0;
  /** Packets accepted as plaintext after decryption failed, because `gossipVerifyIncoming` is false. */
  plaintextAccepted = 0;
  /** Rejections by reason (packets, streams and dropped compound parts). */
  readonly rejected: Record<WireErrorReason, number> = Object.fromEntries(WIRE_ERROR_REASONS.map((r) => [r, 0])) as Record<WireErrorReason, number>;

  /** Counts one rejection. */
  reject(reason: WireErrorReason): void {
    this.rejected[reason]++;
  }

  /** A plain copy of the counters (for metrics and tests). */
  snapshot(): WireStatsSnapshot {
    return {
      packetsDecoded: this.packetsDecoded,
      packetsRejected: this.packetsRejected,
      streamsDecoded: this.streamsDecoded,
      streamsRejected: this.streamsRejected,
      compoundPartsDropped: this.compoundPartsDropped,
      plaintextAccepted: this.plaintextAccepted,
      rejected: { ...this.rejected },
    };
  }
}

export interface WireStatsSnapshot {
  readonly packetsDecoded: number;
  readonly packetsRejected: number;
  readonly streamsDecoded: number;
  readonly streamsRejected: number;
  readonly compoundPartsDropped: number;
  readonly plaintextAccepted: number;
  readonly rejected: Readonly<Record<WireErrorReason, number>>;
}

/** Process-wide default counters, used when `PacketOptions.stats` is not given. */
export const wireStats = new WireStats();
