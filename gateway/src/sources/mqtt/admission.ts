import { Refusal } from '../../errors.ts';

/** Why a connection was turned away before the broker saw it. */
export type AdmissionRefusal =
  | typeof Refusal.MAX_PENDING
  | typeof Refusal.MAX_PENDING_PER_ADDRESS
  | typeof Refusal.MAX_CLIENTS;

export interface AdmissionLimits {
  /** Connections that sent their CONNECT (clients), at most. */
  maxClients: number;
  /** Connections still waiting for their CONNECT, at most, from all addresses together. */
  maxPending: number;
  /** ...and from one remote address. */
  maxPendingPerAddress: number;
}

/** One connection's place: pending until its CONNECT arrives, then a client, then closed. */
export interface AdmissionTicket {
  readonly address: string;
  readonly state: 'pending' | 'client' | 'closed';
  /** Its CONNECT arrived: leave the pending set and take a client slot, if one is free. */
  promote(): AdmissionRefusal | undefined;
  /** The connection closed (any state; idempotent). */
  close(): void;
}

/**
 * Counts connections in two separate pools: those that have not sent CONNECT yet (bounded in
 * total and per remote address, and by a short timeout in the listener) and clients (bounded
 * by `maxClients`). Idle sockets that never send CONNECT therefore never hold a client slot,
 * and one address cannot take every pending slot.
 */
export class ConnectionGate {
  private pending = 0;
  private clients = 0;
  private readonly pendingByAddress = new Map<string, number>();

  constructor(private readonly limits: AdmissionLimits) {}

  get counts(): { pending: number; clients: number; addresses: number } {
    return { pending: this.pending, clients: this.clients, addresses: this.pendingByAddress.size };
  }

  /** A new connection, before any byte is read; a refusal means: close it at once. */
  admit(remoteAddress: string | undefined): AdmissionTicket | AdmissionRefusal {
    const address = normaliseAddress(remoteAddress);
    const fromAddress = this.pendingByAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxPendingPerAddress) return Refusal.MAX_PENDING_PER_ADDRESS;
    if (this.pending >= this.limits.maxPending) return Refusal.MAX_PENDING;
    this.pending += 1;
    this.pendingByAddress.set(address, fromAddress + 1);
    let state: AdmissionTicket['state'] = 'pending';
    const leavePending = () => {
      this.pending -= 1;
      const n = (this.pendingByAddress.get(address) ?? 1) - 1;
      if (n > 0) this.pendingByAddress.set(address, n);
      else this.pendingByAddress.delete(address);
    };
    return {
      address,
      get state() {
        return state;
      },
      promote: () => {
        if (state !== 'pending') return undefined;
        leavePending();
        if (this.clients >= this.limits.maxClients) {
          state = 'closed';
          return Refusal.MAX_CLIENTS;
        }
        this.clients += 1;
        state = 'client';
        return undefined;
      },
      close: () => {
        if (state === 'pending') leavePending();
        else if (state === 'client') this.clients -= 1;
        state = 'closed';
      },
    };
  }
}

/** `::ffff:192.0.2.1` and `192.0.2.1` are the same peer. */
export function normaliseAddress(address: string | undefined): string {
  if (address === undefined) return '?';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
