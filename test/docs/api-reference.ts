/**
 * Builds the API reference model with typedoc (the options in typedoc.json) without
 * writing HTML, and reports what the doc checks need: typedoc's own validation messages
 * (undocumented exports, broken `{@link}`s) and every public function or method whose
 * documentation has no `@example`.
 */
import { Application, Comment, type DeclarationReflection, Logger, LogLevel, type Reflection, ReflectionKind, TSConfigReader, TypeDocReader } from 'typedoc';

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
  /** The code of every `@example` in the reference, with the qualified name it documents. */
  examples: { name: string; info: string; code: string }[];
}

// Constructors are left out: the classes with one (errors) are documented as classes.
const CALLABLE = ReflectionKind.Function | ReflectionKind.Method;

function qualifiedName(r: Reflection): string {
  const parts: string[] = [];
  for (let p: Reflection | undefined = r; p && !p.isProject(); p = p.parent) {
    // A signature carries its function's name; count the name once.
    if (!p.kindOf(ReflectionKind.SomeSignature)) parts.unshift(p.name);
  }
  return parts.join('.');
}

function hasExample(r: DeclarationReflection): boolean {
  if (r.comment?.getTag('@example')) return true;
  return (r.signatures ?? []).some((s) => s.comment?.getTag('@example') !== undefined);
}

/**
 * The code of an `@example`: its fenced ts/js blocks with their info strings (```ts fresh
 * <reason> runs alone, as in markdown), or the whole text when it has no fence.
 */
function exampleCode(text: string): { info: string; code: string }[] {
  const fenced = [...text.matchAll(/```((?:ts|typescript|js|javascript)?[^\n]*)\n([\s\S]*?)```/g)].map((m) => ({
    info: m[1].trim() || 'ts',
    code: m[2],
  }));
  return fenced.length > 0 ? fenced : [{ info: 'ts', code: text }];
}

function examplesOf(reflections: readonly Reflection[]): { name: string; info: string; code: string }[] {
  const examples: { name: string; info: string; code: string }[] = [];
  for (const r of reflections) {
    for (const tag of r.comment?.getTags('@example') ?? []) {
      for (const { info, code } of exampleCode(Comment.combineDisplayParts(tag.content))) examples.push({ name: qualifiedName(r), info, code });
    }
  }
  return examples;
}

/** Converts src/index.ts as typedoc.json says and runs typedoc's validation. */
export async function checkApiReference(): Promise<ApiReferenceReport> {
  // skipErrorChecking: typedoc would first type-check all of src/ (`tsc --noEmit` in
  // `npm test` already does); converting needs only the exported declarations' types.
  const app = await Application.bootstrapWithPlugins({ options: 'typedoc.json', skipErrorChecking: true, disableSources: true }, [
    new TypeDocReader(),
    new TSConfigReader(),
  ]);
  const logger = new CollectingLogger();
  app.logger = logger;
  const project = await app.convert();
  if (!project) return { messages: [...logger.messages, 'typedoc could not convert the project'], withoutExample: [], callables: 0, examples: [] };
  app.validate(project);
  // A function written as a const (`export const tanh = unaryOp(...)`) is a callable too,
  // whether its type is written out or named (an interface of call signatures, such as
  // UnaryFunction<'float'>).
  const hasCallSignatures = (r: Reflection | undefined): boolean =>
    r?.isDeclaration() === true && ((r.signatures?.length ?? 0) > 0 || r.children?.some((c) => c.kindOf(ReflectionKind.CallSignature)) === true);
  const isFunctionVariable = (r: DeclarationReflection): boolean =>
    r.kindOf(ReflectionKind.Variable) &&
    ((r.type?.type === 'reflection' && (r.type.declaration.signatures?.length ?? 0) > 0) ||
      (r.type?.type === 'reference' && hasCallSignatures(r.type.reflection)));
  const callables = project
    .getReflectionsByKind(CALLABLE | ReflectionKind.Variable)
    .filter((r): r is DeclarationReflection => r.isDeclaration() && !r.flags.isPrivate && !r.flags.isProtected && !r.flags.isExternal)
    .filter((r) => !r.kindOf(ReflectionKind.Variable) || isFunctionVariable(r));
  const withoutExample = callables.filter((r) => !hasExample(r)).map(qualifiedName);
  const documented = Object.values(project.reflections).filter((r) => !r.flags.isPrivate && !r.flags.isProtected && !r.flags.isExternal);
  return {
    messages: logger.messages,
    withoutExample: [...new Set(withoutExample)].sort(),
    callables: callables.length,
    examples: examplesOf(documented),
  };
}
