import { Stage, type StageProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { LoadTestConfig } from '../app/config';
import { addLoadTestStacks, type LoadTestStacks } from '../app/load-test';

export interface LoadTestStageProps extends StageProps {
  /** The validated configuration: create mode or bring-your-own. */
  readonly config: LoadTestConfig;
}

/** What the pipeline deploys: the network, database and load stacks (just load with an existing database). */
export class LoadTestStage extends Stage {
  /** The stage id; stack names are `LoadTest-Network`, `LoadTest-Database`, `LoadTest-Load`. */
  static readonly ID = 'LoadTest';

  readonly stacks: LoadTestStacks;

  constructor(scope: Construct, id: string, props: LoadTestStageProps) {
    super(scope, id, props);
    // The stage's env (if any) is inherited by its stacks; none keeps them environment-agnostic.
    this.stacks = addLoadTestStacks(this, props.config);
  }
}
