import ForkcastCLI

ForkcastCommand.main()
