import type { PoolFactory } from '../../src/resilience/index.js';

export interface FakeConnection {
  readonly id: number;
  broken: boolean;
  destroyed: boolean;
}

/**
 * A factory whose connections are plain objects. `failNext` makes the next creations fail;
 * `manual` holds each creation until the test calls `completeCreate()`.
 */
export class FakeFactory implements PoolFactory<FakeConnection> {
  created: FakeConnection[] = [];
  destroyed: FakeConnection[] = [];
  validations = 0;
  failNext = 0;
  manual = false;
  private held: { resolve: (c: FakeConnection) => void; reject: (e: unknown) => void }[] = [];
  private nextId = 1;

  create(): Promise<FakeConnection> {
    if (this.manual) return new Promise((resolve, reject) => this.held.push({ resolve, reject }));
    return this.make();
  }

  private make(): Promise<FakeConnection> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('connect ECONNREFUSED'));
    }
    const connection = { id: this.nextId++, broken: false, destroyed: false };
    this.created.push(connection);
    return Promise.resolve(connection);
  }

  /** Completes the oldest held creation (success unless `failNext`). */
  completeCreate(): void {
    const held = this.held.shift();
    if (held === undefined) throw new Error('no creation is held');
    this.make().then(held.resolve, held.reject);
  }

  get heldCreates(): number {
    return this.held.length;
  }

  destroy(connection: FakeConnection): void {
    if (connection.destroyed) throw new Error(`connection ${connection.id} destroyed twice`);
    connection.destroyed = true;
    this.destroyed.push(connection);
  }

  validate(connection: FakeConnection): boolean {
    this.validations++;
    return !connection.broken;
  }
}
