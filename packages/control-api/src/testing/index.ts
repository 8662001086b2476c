export { FakeDaemon, type FakeDaemonOptions, type FakeReply, type FakeRoute, type RecordedRequest } from './fake-daemon.js';
