// Your own plugin for the runner: a module whose default export is a
// ServiceMaker. It greets each client with the number of connections this
// process has served, and logs a report every --report seconds.
//
//   deno run -A cli.ts run examples/hits_plugin.ts --help
//   deno run -A cli.ts run examples/hits_plugin.ts --listen tcp:8090 --greeting Howdy
//   deno run -A cli.ts run examples/hits_plugin.ts --listen tcp:8090 --workers 2
//   nc localhost 8090
//
// makeService returns a tree: a MultiService named "hits" (the runner prints
// "hits listening on ...") holding one StreamServerEndpointService per
// --listen and a TimerService. The runner starts the tree when the reactor
// runs, and Ctrl-C stops it, in reverse order, before the process exits.
import {
  Factory,
  Logger,
  MultiService,
  Protocol,
  serverFromString,
  type ServiceMaker,
  StreamServerEndpointService,
  TimerService,
  UsageError,
} from "../mod.ts";

const log = new Logger("hits");
let hits = 0;

const maker: ServiceMaker = {
  description: "Greets each client with a hit count; logs a report now and then",
  options: {
    greeting: { type: "string", short: "g", default: "Hello", description: "the first word" },
    report: { type: "string", default: "60", valueName: "SECONDS", description: "report interval" },
  },
  defaultListen: ["tcp:8090:interface=127.0.0.1"],
  makeService(options, reactor) {
    const report = Number(options.report);
    if (!(report > 0)) {
      throw new UsageError(`--report must be a number of seconds, not ${options.report}`);
    }
    const greeting = String(options.greeting);
    class Hit extends Protocol {
      override connectionMade(): void {
        hits++;
        this.transport!.write(`${greeting}, visitor number ${hits} (pid ${Deno.pid})\r\n`);
        this.transport!.loseConnection();
      }
    }
    const root = new MultiService("hits");
    for (const description of options.listen) {
      new StreamServerEndpointService(
        serverFromString(reactor, description),
        Factory.forProtocol(Hit),
      )
        .setServiceParent(root);
    }
    new TimerService(report, () => log.info(`${hits} hits so far`)).setServiceParent(root);
    return root;
  },
};

export default maker;
