import ForkcastCLI

ForkcastProgram.main()
