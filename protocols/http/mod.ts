/**
 * An HTTP/1.1 client in Twisted's shape: {@linkcode Agent} issues requests
 * and fires with a {@linkcode Response} once its head has arrived;
 * {@linkcode readBody} collects the body; {@linkcode HTTPConnectionPool}
 * keeps connections alive between requests; {@linkcode RedirectAgent}
 * follows redirects; {@linkcode getPage} does all of it in one call, as
 * Twisted's old `getPage` did.
 *
 * Everything runs over the reactor's `connectTCP` (and `connectSSL` for
 * HTTPS, when the reactor has it), so the client works with a fake reactor
 * too. Users import it from `@torsion/torsion/protocols`, which re-exports
 * all of this.
 *
 * @example Fetching a page
 * ```ts ignore
 * import { getPage } from "@torsion/torsion/protocols";
 *
 * const page = await getPage("http://127.0.0.1:8080/", { timeout: 10 });
 * console.log(new TextDecoder().decode(page));
 * ```
 *
 * @module
 */

export { Headers, type HeadersLike } from "./headers.ts";
export { BadResponseVersion, ParseError } from "./parse_error.ts";
export {
  BodyTooLargeError,
  DataLoss,
  PartialDownloadError,
  PotentialDataLoss,
  RequestNotSent,
  ResponseDone,
  ResponseFailed,
  ResponseNeverReceived,
  SchemeNotSupported,
} from "./errors.ts";
export {
  HTTPError,
  InfiniteRedirection,
  PageRedirect,
  RedirectWithNoLocation,
} from "./http_error.ts";
export {
  type ClientRequest,
  Response,
  type ResponseBodyProducer,
  type ResponseBodyProtocol,
  type ResponseOptions,
} from "./response.ts";
export { readBody, type ReadBodyOptions } from "./read_body.ts";
export { HTTPConnectionPool } from "./connection_pool.ts";
export { Agent, type AgentLike, type AgentOptions, type HTTPClientReactor } from "./agent.ts";
export { RedirectAgent } from "./redirect_agent.ts";
export { getPage, type GetPageOptions } from "./get_page.ts";
export { type BodyProducer, UNKNOWN_LENGTH } from "./body_producer.ts";
export { FileBodyProducer, type FileBodyProducerOptions } from "./file_body_producer.ts";
export {
  ExcessWrite,
  RequestGenerationFailed,
  RequestTransmissionFailed,
  WrongBodyLength,
} from "./request_errors.ts";
export {
  BrotliDecoder,
  type ContentDecoder,
  DeflateDecoder,
  GzipDecoder,
} from "./content_decoders.ts";
export { ContentDecoderAgent } from "./content_decoder_agent.ts";
export { BrowserLikeRedirectAgent } from "./redirect_agent.ts";
export { type Cookie, CookieJar } from "./cookie_jar.ts";
export { CookieAgent } from "./cookie_agent.ts";
export { ProxyAgent, type ProxyAgentOptions, TunnelError } from "./proxy_agent.ts";
