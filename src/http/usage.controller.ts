import { Controller, Get, UseGuards } from '@nestjs/common';
import { UsageService } from '../application/usage.service';
import type { Caller } from '../domain/caller';
import { usageQuerySchema } from '../domain/requests/usage.request';
import type { UsageSummary } from '../domain/usage';
import { AuthGuard, CurrentCaller } from './auth.guard';
import { ValidQuery } from './validated';

@Controller('v1/usage')
@UseGuards(AuthGuard)
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  /** `start_date` and `end_date` (YYYY-MM-DD, UTC, inclusive); the last 30 days by default. */
  @Get()
  get(
    @CurrentCaller() caller: Caller,
    @ValidQuery(usageQuerySchema) range: { from: string; to: string },
  ): Promise<UsageSummary> {
    return this.usage.summary(caller, range.from, range.to);
  }
}
