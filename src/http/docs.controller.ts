import { Controller, Get, Header } from '@nestjs/common';
import { docsPage, openApiDocument } from './openapi';

/** The description of our own endpoints: /openapi.json, and /docs rendered from it. No auth: it holds no data. */
@Controller()
export class DocsController {
  private readonly document = openApiDocument();
  private readonly page = docsPage(this.document);

  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    return this.document;
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  docs(): string {
    return this.page;
  }
}
