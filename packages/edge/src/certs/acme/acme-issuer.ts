/**
 * One ACME account, reused, and orders through it (acme-client v5 `auto`, which always runs
 * the remove hook and deactivates authorizations it could not complete). The account key
 * is made once, sealed into the store with the account URL, and loaded from there by every
 * edge sharing the store. The certificate key is a fresh P-256 key per order.
 */
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/index.js';
import type { CertificateMaterial } from '../certificates.js';
import type { KeySeal } from '../key-seal.js';
import { acmeFailure, tagAcmeProblems } from './acme-problem.js';
import type { ChallengeSolver } from './challenge-solver.js';

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export interface AcmeIssuerOptions {
  store: Pick<Store, 'getAcmeAccount' | 'saveAcmeAccount'>;
  seal: KeySeal;
  directoryUrl: string;
  email: string;
  /** PEM of a CA to trust for the directory's TLS, beside the system roots (`--acme-ca-file`). */
  caPem?: string;
  log: Logger;
  /** How often and how long to poll pending authorizations and orders (acme-client backoff). */
  poll?: { attempts: number; minMs: number; maxMs: number };
}

/** acme-client's own settings on its axios defaults (not in its types). */
interface AcmeAxiosDefaults {
  acmeSettings: { retryMaxAttempts: number };
}

/** One request to the CA (directory, nonce, order, poll, download). */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Production polling: a few seconds apart, about two minutes in all. */
const DEFAULT_POLL = { attempts: 10, minMs: 2_000, maxMs: 15_000 };

export class AcmeIssuer {
  #client: Promise<acme.Client> | null = null;

  constructor(private readonly options: AcmeIssuerOptions) {
    tagAcmeProblems();
    // acme-client v5 talks through one process-wide axios instance, so these are set there.
    // Its own retries would sleep up to a CA's Retry-After (hours) inside an order: the edge
    // backs off itself, with the attempt recorded in the store. No request may hang forever.
    (acme.axios.defaults as unknown as AcmeAxiosDefaults).acmeSettings.retryMaxAttempts = 0;
    acme.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
    if (options.caPem !== undefined) {
      // The axios agent is the only way acme-client v5 lets a private directory be trusted.
      // Added to the system roots, not instead of them.
      acme.axios.defaults.httpsAgent = new HttpsAgent({ ca: [...rootCertificates, options.caPem] });
    }
  }

  /**
   * Orders a certificate for `hosts` (the first is the CN) proven with `solver`. Throws a
   * TunnelError with a TUN_ERR_ACME_* code saying why it failed.
   */
  async issue(hosts: readonly string[], solver: ChallengeSolver): Promise<CertificateMaterial> {
    const name = hosts[0] ?? '';
    try {
      const client = await this.client();
      const [key, csr] = await acme.crypto.createCsr(
        { commonName: name, altNames: [...hosts] },
        await acme.crypto.createPrivateEcdsaKey(),
      );
      const certPem = await client.auto({
        csr,
        email: this.options.email,
        termsOfServiceAgreed: true,
        challengePriority: [solver.type],
        // The CA checks; the edge checking itself first would go through its own NAT or DNS view.
        skipChallengeVerification: true,
        challengeCreateFn: (authz, challenge, keyAuthorization) =>
          solver.create(authz.identifier.value, tokenOf(challenge), keyAuthorization),
        challengeRemoveFn: (authz, challenge, keyAuthorization) =>
          solver.remove(authz.identifier.value, tokenOf(challenge), keyAuthorization),
      });
      return { certPem, keyPem: key.toString() };
    } catch (err) {
      // A client whose account setup failed is made again next time.
      if (!(await this.#client?.then(() => true).catch(() => false))) this.#client = null;
      throw acmeFailure(name, err);
    }
  }

  private client(): Promise<acme.Client> {
    this.#client ??= this.openAccount();
    return this.#client;
  }

  /** The stored account for this directory, or a new one registered and stored. */
  private async openAccount(): Promise<acme.Client> {
    const { store, seal, directoryUrl, email, log } = this.options;
    const poll = this.options.poll ?? DEFAULT_POLL;
    const backoff = { backoffAttempts: poll.attempts, backoffMin: poll.minMs, backoffMax: poll.maxMs };
    const stored = await store.getAcmeAccount(directoryUrl);
    if (stored?.accountUrl != null) {
      return new acme.Client({
        directoryUrl,
        accountKey: seal.open(stored.keySealed),
        accountUrl: stored.accountUrl,
        ...backoff,
      });
    }
    const accountKey = (await acme.crypto.createPrivateEcdsaKey()).toString();
    const client = new acme.Client({ directoryUrl, accountKey, ...backoff });
    await client.createAccount({ termsOfServiceAgreed: true, contact: [`mailto:${email}`] });
    const saved = await store.saveAcmeAccount({
      directoryUrl,
      email,
      keySealed: seal.seal(accountKey),
      accountUrl: client.getAccountUrl(),
    });
    log.info({ directoryUrl, account: saved.accountUrl }, 'ACME account ready');
    if (saved.accountUrl === client.getAccountUrl()) return client;
    // Another edge registered first: use its account, so all edges share one.
    return new acme.Client({
      directoryUrl,
      accountKey: seal.open(saved.keySealed),
      accountUrl: saved.accountUrl ?? undefined,
      ...backoff,
    });
  }
}

/** Every challenge type acme-client knows carries a token; a missing one reaches the solver as ''. */
function tokenOf(challenge: object): string {
  return 'token' in challenge && typeof challenge.token === 'string' ? challenge.token : '';
}
