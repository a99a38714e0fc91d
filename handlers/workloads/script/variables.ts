/**
 * A client's variables, as pgbench keeps them: a variable holds text (from -D or \gset) or a
 * value (from \set), and each form is derived from the other when first needed. A transaction
 * writes into its own layer over the message's variables, so concurrent transactions of one
 * slice never see each other's values.
 */
import { parseVariableText, ScriptRuntimeError, textOf, type Value } from './value';

interface Slot {
  text?: string | null;
  value?: Value;
}

export class Variables {
  private readonly own = new Map<string, Slot>();

  constructor(private readonly parent?: Variables) {}

  /** A layer over this one: reads fall through, writes stay in the layer. */
  child(): Variables {
    return new Variables(this);
  }

  has(name: string): boolean {
    return this.slot(name) !== undefined;
  }

  setText(name: string, text: string): void {
    this.own.set(name, { text });
  }

  setValue(name: string, value: Value): void {
    this.own.set(name, { value });
  }

  /** The variable's value (an expression reads it); throws when it is undefined or malformed. */
  value(name: string): Value {
    const slot = this.slot(name);
    if (!slot) throw new ScriptRuntimeError(`undefined variable "${name}"`);
    // A slot without a value was made by setText, so it has its text.
    if (slot.value === undefined) slot.value = parseVariableText(name, slot.text as string);
    return slot.value;
  }

  /** The text a statement is sent for the variable (null: SQL NULL); throws when undefined. */
  text(name: string): string | null {
    const slot = this.slot(name);
    if (!slot) throw new ScriptRuntimeError(`undefined variable "${name}"`);
    if (slot.text === undefined) slot.text = textOf(slot.value!);
    return slot.text;
  }

  private slot(name: string): Slot | undefined {
    return this.own.get(name) ?? this.parent?.slot(name);
  }
}
