/**
 * Builds the API reference model with typedoc (the options in typedoc.json) without
 * writing HTML, and reports what the doc checks need: typedoc's own validation messages
 * (undocumented exports, broken `{@link}`s) and every public function or method whose
 * documentation has no `@example`.
 */
import { Application, type DeclarationReflection, Logger, LogLevel, ReflectionKind, TSConfigReader, TypeDocReader } from 'typedoc';

/** A logger that keeps typedoc's warnings and errors instead of printing them. */
class CollectingLogger extends Logger {
  readonly messages: string[] = [];
  override log(message: string, level: LogLevel): void {
    if (level >= LogLevel.Warn) this.messages.push(message);
  }
}

export interface ApiReferenceReport {
  /** typedoc's warnings and errors, validation included (one line each). */
  messages: string[];
  /** Qualified names (`sum`, `random.normal`, `MetalArray.add`) of public callables without an `@example`. */
  withoutExample: string[];
  /** How many public callables were checked. */
  callables: number;
}

// Constructors are left out: the classes with one (errors) are documented as classes.
const CALLABLE = ReflectionKind.Function | ReflectionKind.Method;

function qualifiedName(r: DeclarationReflection): string {
  const parts: string[] = [];
  for (let p: DeclarationReflection['parent'] = r; p && !p.isProject(); p = p.parent) parts.unshift(p.name);
  return parts.join('.');
}

function hasExample(r: DeclarationReflection): boolean {
  if (r.comment?.getTag('@example')) return true;
  return (r.signatures ?? []).some((s) => s.comment?.getTag('@example') !== undefined);
}

/** Converts src/index.ts as typedoc.json says and runs typedoc's validation. */
export async function checkApiReference(): Promise<ApiReferenceReport> {
  const app = await Application.bootstrapWithPlugins({ options: 'typedoc.json' }, [new TypeDocReader(), new TSConfigReader()]);
  const logger = new CollectingLogger();
  app.logger = logger;
  const project = await app.convert();
  if (!project) return { messages: [...logger.messages, 'typedoc could not convert the project'], withoutExample: [], callables: 0 };
  app.validate(project);
  const callables = project
    .getReflectionsByKind(CALLABLE)
    .filter((r): r is DeclarationReflection => r.isDeclaration() && !r.flags.isPrivate && !r.flags.isProtected && !r.flags.isExternal);
  const withoutExample = callables.filter((r) => !hasExample(r)).map(qualifiedName);
  return { messages: logger.messages, withoutExample: [...new Set(withoutExample)].sort(), callables: callables.length };
}
