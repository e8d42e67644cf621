/**
 * A multi-user line chat, the classic first Twisted server: everyone who
 * connects gets a name, every line a user types goes to everyone else, and
 * a few slash commands manage names. It shows a factory holding state shared
 * by its protocols, and how to survive peers that vanish mid-sentence.
 *
 * @module
 */
import type { Failure } from "../defer/failure.ts";
import { Deferred } from "../defer/deferred.ts";
import type { Transport } from "../reactor/interfaces.ts";
import { Logger } from "../reactor/log.ts";
import { ServerFactory } from "./factory.ts";
import { LineReceiver } from "./line_receiver.ts";
import { _LineBacklog } from "./_line_backlog.ts";

const NICK = /^[A-Za-z0-9_\-.[\]{}^`|]+$/;

/**
 * One chat user's connection. Lines starting with `/` are commands:
 *
 * - `/nick NAME` takes a new name: 1 to {@linkcode ChatFactory.maxNickLength}
 *   characters out of letters, digits and `_-.[]{}^`|`, not in use by
 *   anyone else (names are compared without case).
 * - `/who` lists who is here.
 * - `/quit [message]` says goodbye and disconnects.
 * - `/help` lists the commands.
 *
 * Any other non-empty line is sent to everyone else as `<name> line`. A line
 * longer than `MAX_LENGTH` bytes is dropped with one notice, however it
 * arrives, and the connection carries on. Replies from the server start
 * with `*`.
 *
 * Lines may end with LF (what `nc` sends on Linux and macOS) or CRLF (telnet,
 * `nc -C`, Windows); the chat sends CRLF. `MAX_LENGTH` counts the bytes
 * before the LF, a CR included.
 *
 * What users type cannot drive other users' terminals: control characters
 * are made visible before anything is relayed or echoed. C0 controls and DEL
 * are shown in caret notation, as `cat -v` shows them (ESC as `^[`, so a
 * clear-screen `ESC [2J` arrives as the text `^[[2J`; BEL as `^G`, NUL as
 * `^@`, DEL as `^?`); C1 controls (U+0080 to U+009F, which some terminals
 * also obey) become U+FFFD. Tab is kept. Names are already limited to a
 * safe alphabet by `/nick`.
 *
 * A user who stops reading costs bounded memory, however much the others
 * say: once about half of {@linkcode ChatFactory.maxOutput} bytes wait
 * unsent on their connection, lines for them are held in a backlog of the
 * other half, and when that overflows its oldest lines are dropped. When
 * their connection drains they are told `* N lines were dropped: you were
 * not reading fast enough`, then get the newest lines. The goodbye at
 * shutdown and after `/quit` is always sent.
 *
 * To test a chat protocol, connect two clients with the `testing` kit's
 * `connectedServerAndClient` and feed lines one byte at a time.
 *
 * @example A chat server on a free port
 * ```ts ignore
 * import { ChatFactory, reactor } from "@torsion/torsion";
 *
 * const port = reactor.listenTCP(0, new ChatFactory(), { interface: "127.0.0.1" });
 * console.log(`nc 127.0.0.1 ${port.getHost().port}`);
 * ```
 */
export class ChatProtocol extends LineReceiver {
  /** Lines longer than this many bytes are dropped. */
  override MAX_LENGTH: number = 2048;
  /** The factory that holds the room; set by `buildProtocol`. */
  declare factory: ChatFactory | null;
  /** This user's name once connected; `null` before and after. */
  nick: string | null = null;
  /** Lines end with LF; a CR before it is dropped, so CRLF works too. */
  override delimiter: string = "\n";
  // Inside an over-long line whose notice was sent: drop up to its end.
  #discarding = false;
  // Lines for this user while their connection's queue is full.
  #backlog: _LineBacklog | undefined;

  #room(): ChatFactory {
    const factory = this.factory;
    if (!(factory instanceof ChatFactory)) {
      throw new TypeError("A ChatProtocol must be built by a ChatFactory");
    }
    return factory;
  }

  /** Joins the room under a guest name and greets the user. */
  override connectionMade(): void {
    const room = this.#room();
    const transport: Transport & { bufferSize?: number } = this.transport!;
    const half = Math.floor(room.maxOutput / 2);
    // Socket transports pause their producer past bufferSize queued bytes.
    if (typeof transport.bufferSize === "number") transport.bufferSize = half;
    this.#backlog = new _LineBacklog(
      half,
      (line) => super.sendLine(`${line}\r`),
      (n) => `* ${n} line${n === 1 ? " was" : "s were"} dropped: you were not reading fast enough`,
    );
    transport.registerProducer(this.#backlog, true);
    const nick = room.join(this);
    this.sendLine(`* Welcome to ${room.name}, ${nick}. Type /help for commands.`);
  }

  /**
   * Runs a command or sends the line to the room.
   *
   * @param line One line from the user, without its delimiter.
   */
  override lineReceived(line: string): void {
    if (this.#discarding) {
      // The end of a line that was too long.
      this.#discarding = false;
      return;
    }
    if (this.nick === null) return;
    const text = escapeControls(line.endsWith("\r") ? line.slice(0, -1) : line).trim();
    if (text === "") return;
    if (!text.startsWith("/")) {
      this.#room().broadcast(`<${this.nick}> ${text}`, this);
      return;
    }
    const space = text.search(/\s/);
    const command = (space === -1 ? text : text.slice(0, space)).toLowerCase();
    const rest = space === -1 ? "" : text.slice(space + 1).trim();
    switch (command) {
      case "/nick":
        this.#nick(rest);
        break;
      case "/who":
        this.sendLine(`* Here: ${this.#room().nicks().join(", ")}`);
        break;
      case "/quit":
        this.#room().leave(this, rest === "" ? "quit" : `quit: ${rest}`);
        this.closeWith("* Goodbye!");
        break;
      case "/help":
        this.sendLine("* Commands: /nick NAME, /who, /quit [message], /help");
        break;
      default:
        this.sendLine(`* Unknown command ${command}; try /help`);
    }
  }

  #nick(wanted: string): void {
    const room = this.#room();
    const problem = room.checkNick(wanted, this);
    if (problem !== undefined) {
      this.sendLine(`* ${problem}`);
      return;
    }
    const old = this.nick!;
    room.rename(this, wanted);
    this.sendLine(`* You are now ${wanted}`);
    room.broadcast(`* ${old} is now ${wanted}`, this);
  }

  /**
   * Sends `line` ending in CRLF, whichever line ending the user's client
   * sends. While the user is not reading, the line may wait in their
   * backlog, or be dropped (see {@linkcode ChatProtocol}).
   *
   * @param line The line, without its ending.
   * @throws {Error} If the protocol has no transport yet.
   */
  override sendLine(line: string | Uint8Array): void {
    if (typeof line !== "string") {
      super.sendLine(concat(line, CR));
    } else if (this.#backlog !== undefined) {
      this.#backlog.offer(line);
    } else {
      super.sendLine(`${line}\r`);
    }
  }

  /**
   * Sends a last line, past any backlog, and closes the connection once
   * it has been written.
   *
   * @param line The line, without its ending.
   */
  closeWith(line: string): void {
    const transport = this.transport;
    if (transport === null || transport.disconnecting) return;
    if (this.#backlog !== undefined) {
      // A registered producer would hold the close until it unregisters.
      this.#backlog.stopProducing();
      this.#backlog = undefined;
      transport.unregisterProducer();
    }
    super.sendLine(`${line}\r`);
    transport.loseConnection();
  }

  /**
   * Drops an over-long line and tells the user once, instead of
   * disconnecting as `LineReceiver` does by default. The rest of that line,
   * however many chunks it comes in, is dropped without another notice.
   *
   * @param line The bytes buffered so far.
   */
  override lineLengthExceeded(line: Uint8Array): void {
    if (!this.#discarding) this.#tooLong();
    let end = line.indexOf(LF);
    // Without a line end, the rest of the long line is still to come.
    this.#discarding = end === -1;
    if (end === -1) return;
    // The bytes may hold more lines that came in the same chunk.
    let start = end + 1;
    while ((end = line.indexOf(LF, start)) !== -1) {
      if (end - start > this.MAX_LENGTH) {
        this.#tooLong();
      } else {
        this.lineReceived(decoder.decode(line.subarray(start, end)));
      }
      start = end + 1;
      if (this.transport === null || this.transport.disconnecting) return;
    }
    // A partial line goes back to the buffer, to be completed by what comes next.
    if (start < line.length) this.dataReceived(line.slice(start));
  }

  #tooLong(): void {
    this.sendLine(`* Line too long (over ${this.MAX_LENGTH} bytes), dropped`);
  }

  /**
   * Leaves the room, once, however the connection ended.
   *
   * @param reason Why it ended.
   */
  override connectionLost(reason: Failure): void {
    super.connectionLost(reason);
    this.#backlog = undefined;
    const factory = this.factory;
    if (factory instanceof ChatFactory && this.nick !== null) {
      factory.leave(this, "connection lost");
    }
  }
}

const LF = 0x0a;
const CR: Uint8Array = Uint8Array.of(0x0d);
const decoder = new TextDecoder();

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// C0 controls but tab, DEL, and C1 controls: matching them is the point.
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/** Shows control characters as text: caret notation for C0 and DEL, U+FFFD for C1. */
function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    return code === 0x7f ? "^?" : "\ufffd";
  });
}

/**
 * The chat room: builds a {@linkcode ChatProtocol} per connection and keeps
 * track of who is here. New users are named `guest-1`, `guest-2`, ...
 * Joins, name changes and departures are announced to the others and
 * logged under the `chat` namespace.
 *
 * @example A room on a free port, closed politely at shutdown
 * ```ts ignore
 * import { ChatFactory, reactor } from "@torsion/torsion";
 *
 * const room = new ChatFactory();
 * reactor.listenTCP(8023, room, { interface: "127.0.0.1" });
 * reactor.addSystemEventTrigger("before", "shutdown", () => room.sayGoodbye());
 * reactor.run();
 * ```
 */
export class ChatFactory extends ServerFactory<ChatProtocol> {
  /** The room's name, used in the welcome line. */
  name: string;
  /** The longest name a user may take. */
  maxNickLength: number = 32;
  /**
   * Roughly how many bytes of output may wait for one user who is not
   * reading before lines for them are dropped (see
   * {@linkcode ChatProtocol}). Applies to users who connect after a change.
   * It bounds bursts too: when one user sends more than this at once (a
   * large paste arrives in one read), even a reading user may miss the
   * oldest of it, and is told so. Raise it for rooms that expect large
   * pastes; each user who stops reading then costs that much more.
   */
  maxOutput: number = 32 * 1024;
  /** The protocol built per connection. */
  override protocol: (new () => ChatProtocol) | null = ChatProtocol;
  readonly #users = new Map<string, ChatProtocol>(); // by lower-case name
  #guests = 0;
  readonly #log: Logger = new Logger("chat");

  /**
   * Makes an empty room.
   *
   * @param name What the welcome line calls it.
   */
  constructor(name: string = "the torsion chat") {
    super();
    this.name = name;
  }

  /** How many users are connected. */
  get size(): number {
    return this.#users.size;
  }

  /**
   * The names of everyone here, sorted.
   *
   * @returns The names.
   */
  nicks(): string[] {
    return [...this.#users.values()].map((user) => user.nick!).sort();
  }

  /**
   * Why `nick` cannot be taken by `user`, or `undefined` if it can.
   *
   * @param nick The wanted name.
   * @param user Who wants it.
   * @returns A sentence for the user, or `undefined`.
   */
  checkNick(nick: string, user: ChatProtocol): string | undefined {
    if (nick === "") return "Usage: /nick NAME";
    if (!NICK.test(nick)) return "Names use letters, digits and _-.[]{}^`| only";
    if (nick.length > this.maxNickLength) {
      return `Names are at most ${this.maxNickLength} characters`;
    }
    const holder = this.#users.get(nick.toLowerCase());
    if (holder !== undefined && holder !== user) return `${nick} is taken`;
    return undefined;
  }

  /**
   * Adds a user under a fresh guest name and tells the others.
   *
   * @param user The new connection.
   * @returns The name given.
   */
  join(user: ChatProtocol): string {
    let nick: string;
    do nick = `guest-${++this.#guests}`; while (this.#users.has(nick));
    user.nick = nick;
    this.#users.set(nick, user);
    this.broadcast(`* ${nick} has joined`, user);
    this.#log.info(`${nick} joined from ${describePeer(user)}`);
    return nick;
  }

  /**
   * Renames a user; the caller has checked the name with
   * {@linkcode ChatFactory.checkNick}.
   *
   * @param user The user.
   * @param nick The new name.
   */
  rename(user: ChatProtocol, nick: string): void {
    const old = user.nick;
    if (old !== null) this.#users.delete(old.toLowerCase());
    user.nick = nick;
    this.#users.set(nick.toLowerCase(), user);
    this.#log.info(`${old} is now ${nick}`);
  }

  /**
   * Removes a user, once, and tells the others.
   *
   * @param user The user.
   * @param why Why they left, for the others.
   */
  leave(user: ChatProtocol, why: string): void {
    const nick = user.nick;
    if (nick === null || this.#users.get(nick.toLowerCase()) !== user) return;
    this.#users.delete(nick.toLowerCase());
    user.nick = null;
    this.broadcast(`* ${nick} has left (${why})`, user);
    this.#log.info(`${nick} left (${why})`);
  }

  /**
   * Sends a line to every user except `from`. Users whose connection is
   * closing are skipped.
   *
   * @param line The line.
   * @param from Who said it, if anyone.
   */
  broadcast(line: string, from?: ChatProtocol): void {
    for (const user of this.#users.values()) {
      if (user === from || user.transport === null || user.transport.disconnecting) continue;
      user.sendLine(line);
    }
  }

  /**
   * Says goodbye to everyone and closes their connections after the line
   * has been sent. Meant for a `before shutdown` trigger: the Deferred it
   * returns fires once every connection has closed, so the reactor waits.
   *
   * @param message The goodbye line.
   * @returns A Deferred that fires when every connection is closed.
   */
  sayGoodbye(message: string = "* The server is shutting down. Goodbye!"): Deferred<void> {
    const users = [...this.#users.values()];
    const done = new Deferred<void>();
    let open = users.length;
    if (open === 0) {
      done.callback(undefined);
      return done;
    }
    for (const user of users) {
      const lost = user.connectionLost;
      user.connectionLost = (reason: Failure) => {
        user.connectionLost = lost;
        user.connectionLost(reason);
        if (--open === 0) done.callback(undefined);
      };
      // Everyone is leaving: no one is told about the others.
      this.#users.delete(user.nick!.toLowerCase());
      user.nick = null;
      user.closeWith(message);
    }
    this.#log.info(`said goodbye to ${users.length} user${users.length === 1 ? "" : "s"}`);
    return done;
  }
}

function describePeer(user: ChatProtocol): string {
  const peer = user.transport?.getPeer();
  if (peer === undefined) return "nowhere";
  return peer.type === "UNIX" ? peer.path || "a UNIX socket" : `${peer.host}:${peer.port}`;
}
