from mtfw.cli import main

main()
