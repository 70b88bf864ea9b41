import { Module } from '@nestjs/common';
import { CallAdmission } from '../application/call-admission.service';
import { CallLifecycle } from '../application/call-lifecycle.service';
import { CallStreamService } from '../application/call-stream.service';
import { EventTailer } from '../application/event-tailer.service';
import { HeldCalls } from '../application/held-calls.service';
import { RouteSelector } from '../application/route-selector.service';
import { TerminalWaiter } from '../application/terminal-waiter.service';
import { CallKindsModule } from './call-kinds.module';

const PROVIDERS = [
  RouteSelector,
  CallAdmission,
  CallLifecycle,
  TerminalWaiter,
  EventTailer,
  CallStreamService,
  HeldCalls,
];

/** The api's half of every call's life: admission, synchronous waits, streams and the cancel protocol. */
@Module({ imports: [CallKindsModule], providers: PROVIDERS, exports: PROVIDERS })
export class CallsModule {}
